#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write TAPU's kernel patch series: the kernel files of this tree as a
series of patches for a Linux 6.12 tree, shaped the way accel drivers are
posted, with a cover letter.

    mkseries.py [--ksrc DIR] [--out DIR]

--ksrc is the kernel tree the series is for (default
/usr/src/linux-source-6.12); --out receives the patches and the cover
letter (default build/series). make series runs this; check-series.sh
applies the result to a clean tree and builds every patch.

The series is of the committed tree (HEAD; a tree without .git as it
is), first the core fixes of tools/testing/tapu/kernel-patches/: the
DRM ones, which the driver's uAPI tests need on accel files, and the
M4U's, which the APU's mappings need on the SoC. Each patch adds its files as they are in HEAD. The driver's Kconfig
and Makefile grow with the patches: a patch carries the entries of the
symbols introduced so far. The hooks into the kernel's files
(drivers/accel/{Kconfig,Makefile}, MAINTAINERS,
Documentation/accel/index.rst, tools/testing/selftests/Makefile) are
made by the patch that needs them; the MAINTAINERS entry lists the files
added so far. No Signed-off-by: the submitter adds it.
"""
import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
AUTHOR = 'The TAPU authors <tapu-devel@lists.invalid>'
DATE = '2026-12-01T00:00:00+00:00'

# Where the kernel side of this tree lives; every file under these paths
# belongs to exactly one patch.
KERNEL_PATHS = ('Documentation/accel/tapu/', 'Documentation/devicetree/',
                'drivers/accel/tapu/', 'drivers/remoteproc/',
                'include/linux/rpmsg/tapu_mt8183.h',
                'include/uapi/drm/tapu_accel.h',
                'tools/testing/selftests/drivers/accel/tapu/')

PATCHES = [
    dict(
        subject='dt-bindings: remoteproc: Add the MediaTek MT8183 APU',
        files=['Documentation/devicetree/bindings/remoteproc/mediatek,mt8183-apu.yaml'],
        body='''\
The APU of the MediaTek MT8183 is two Cadence Xtensa VP6 DSP cores with
their control registers, interrupts, clocks, power domains and M4U ports.
A remote processor driver loads and starts their firmware, which then
announces one rpmsg channel per core; the TAPU accel driver runs
inference jobs over those channels.

Describe the APU node: the registers and interrupt of each core, the
clocks and power domains of the cores and their bus blocks, the IOMMU
ports the cores use, and the carveout of the firmware with the device
address the cores see it at.'''),
    dict(
        subject='remoteproc: mediatek: Add the MT8183 APU remote processor driver',
        files=['drivers/remoteproc/mtk_apu.c'],
        hooks=['remoteproc'],
        body='''\
Boot the two Xtensa VP6 cores of the MT8183 APU with one ELF firmware
image: load it into the carveout of the node's memory-region, mapped in
the APU's IOMMU at the device address its iommu-addresses give, start
both cores at the image's entry (reset vector, stall, reset pulse, PIF
and AXI routing through the M4U), and serve the virtio devices of its
resource table, core n the n-th: a kick of vring v sets bit v of its
core's interrupt register, and each core's interrupt to the host runs
its vrings.

The cores are powered (clocks and power domains, through runtime PM)
while the firmware runs. A firmware that cannot go on says so with its
interrupt, which is reported as a fatal crash; remoteproc recovers the
APU and a coredump holds the carveout.'''),
    dict(
        subject='accel/tapu: Add the TAPU accel driver core',
        files=['include/uapi/drm/tapu_accel.h', 'drivers/accel/tapu/tapu_backend.h',
               'drivers/accel/tapu/tapu_debugfs.c', 'drivers/accel/tapu/tapu_drv.c',
               'drivers/accel/tapu/tapu_drv.h', 'drivers/accel/tapu/tapu_gem.c',
               'drivers/accel/tapu/tapu_isa.c', 'drivers/accel/tapu/tapu_isa.h',
               'drivers/accel/tapu/tapu_job.c',
               'drivers/accel/tapu/.kunitconfig', 'drivers/accel/tapu/tests/*'],
        symbols=['DRM_ACCEL_TAPU', 'DRM_ACCEL_TAPU_KUNIT_TEST'],
        hooks=['accel'],
        body='''\
TAPU ("tiny APU") drives the small int8 inference processors of embedded
SoCs: NPUs and the DSP-based APUs that run inference firmware. Its core,
tapu.ko, owns what userspace sees, and backends (simulated NPU, MT8183
APU, in the following patches) register devices with a number of cores
and a few operations (tapu_backend.h).

The uAPI (include/uapi/drm/tapu_accel.h):
- QUERY: the device, the ISA and the limits of a stream's work;
- BO_CREATE, BO_INFO, BO_WAIT: GEM shmem buffer objects, mmap and PRIME;
- CMDSTREAM_CREATE: a command stream of the TAPU ISA (convolutions,
  fully connected, element-wise, pooling, activation, table lookup and
  data movement ops on int8 tensors), copied into the kernel and
  validated once, with overflow-checked extents per slot; streams name
  memory only as (slot, offset, shape, strides), never as addresses;
- SUBMIT, WAIT_JOB: jobs of a stream on a list of BOs, with syncobj
  in- and out-fences (binary and timeline), implicit synchronisation
  through the BOs' reservations, priorities, and a job id to wait on.

Jobs run on drm_sched, one scheduler per core, with a per-job timeout
that a moving progress counter extends for long jobs, reset and
recovery through the backend. debugfs shows the pending and scheduled
jobs and the state of each core; fdinfo reports engine time per file.

KUnit suites come with it: the validator (every op's accepted and
rejected fields, extents at the limits, the work bound) and the job
lifecycle (submission, completion, timeout and reset on a mock backend):

    ./tools/testing/kunit/kunit.py run --kunitconfig drivers/accel/tapu'''),
    dict(
        subject='accel/tapu: Add a simulated NPU backend',
        files=['drivers/accel/tapu/tapu_isa_exec.c', 'drivers/accel/tapu/tapu_isa_exec.h',
               'drivers/accel/tapu/tapu_sim_main.c'],
        symbols=['DRM_ACCEL_TAPU_SIM'],
        body='''\
A TAPU device that runs command streams on the CPU with a cycle model,
and completes jobs through an irq_work as a hardware interrupt would. It
lets the driver and its userspace run and be tested on any machine, and
is the reference the other backends' results are checked against. It
measures its throughput at probe, which bounds the work of a stream by
the job timeout.

Fault injection in debugfs (stalled, lost and late completions, device
errors) drives the timeout, reset and recovery paths of the core.

The streams run on the ISA's reference executor (tapu_isa_exec.c),
bit-exact to the formulas in the uAPI header, which the open firmware of
the MT8183 APU also runs.'''),
    dict(
        subject='accel/tapu: Add the MediaTek MT8183 APU backend',
        files=['include/linux/rpmsg/tapu_mt8183.h', 'drivers/accel/tapu/tapu_mt8183.c'],
        symbols=['DRM_ACCEL_TAPU_MT8183'],
        body='''\
Run TAPU jobs on the two Xtensa VP6 cores of the MT8183 APU. The
firmware announces one rpmsg channel per core; each channel is a TAPU
core. The backend maps job buffers for the DSPs with the DMA API of the
remote processor's device, copies each validated stream to coherent
memory once, and sends a job message with a buffer table per job; the
completion comes back on the channel.

include/linux/rpmsg/tapu_mt8183.h is the IPC protocol an open firmware
implements. Every message from the firmware is checked and dropped,
counted in debugfs, unless it answers the job running on its channel. A
hung job reports a watchdog crash to the remote processor core, which
recovers the APU; the pages of an abandoned job stay mapped until its
channel, and so the firmware that might still write them, has gone.'''),
    dict(
        subject='Documentation: accel: Add TAPU',
        files=['Documentation/accel/tapu/*'],
        hooks=['docs'],
        body='''\
The design of the driver (core and backends, memory and job models,
timeouts and recovery), the uAPI with the kernel-doc of its header, and
the MT8183 backend with its IPC protocol, which is the contract an open
firmware implements.'''),
    dict(
        subject='selftests: accel: Add TAPU tests',
        files=['tools/testing/selftests/drivers/accel/tapu/*'],
        hooks=['selftests'],
        body='''\
kselftests of the uAPI on a TAPU device: every ISA op against a CPU
reference written from the uAPI's kernel-doc, malformed streams and
arguments with the exact errno each must get, the job model (fences,
syncobjs, implicit sync between files, priorities, timeouts, closing
files and unbinding with jobs queued), allocation failures injected
with fail-nth, a hostile multi-threaded client, and the MT8183 backend
with every fault of its firmware, armed in the debugfs of a model of the
APU that the series' userspace repository has for QEMU guests.

    make -C tools/testing/selftests TARGETS=drivers/accel/tapu run_tests'''),
]

COVER = '''\
TAPU ("tiny APU") is a DRM accel driver for the small int8 inference
processors of embedded SoCs. A backend registers a device with a number
of cores; userspace allocates GEM buffer objects, has the kernel
validate a command stream of the TAPU ISA once, and submits it as jobs,
scheduled on drm_sched per core with syncobj fences, implicit sync,
timeouts and recovery.

The series adds:
- the DT binding of the MediaTek MT8183 APU (two Xtensa VP6 cores) and
  its remote processor driver, which boots the cores with their firmware
  and serves its virtio-rpmsg devices;
- the core driver and its uAPI, with the command-stream validator;
- a simulated NPU backend, so that the driver runs and is tested on any
  machine, with the ISA's reference executor;
- the MT8183 APU backend, over the rpmsg channels of the APU firmware;
- documentation and kselftests; KUnit tests come with the core.

The first two patches fix the DRM core for every accel driver: an accel
file reaches core ioctls that oops on it (GET_UNIQUE and GET_MAGIC
dereference the master accel files never have), and the syncobj array
ioctls warn from the page allocator for user-sized counts. TAPU's
kselftests exercise both. The third has the M4U driver report the
reserved regions of the device tree, through which the APU's firmware
carveout is kept out of the DMA API's addresses and its rpmsg buffers
are mapped at their physical addresses.

Open userspace, in the same repository as the driver: libtapu (a C
library on libdrm), libtapu-onnx (a runtime that compiles quantized ONNX
models to TAPU command streams and runs them, with a CPU fallback and a
Python binding), tools (tapu-info, tapu-run, tapu-bench), and an open
reference firmware for the MT8183 APU that implements the IPC protocol
of the MT8183 patch.

Testing: under QEMU (TCG) on Debian's 6.12 kernel (the driver built out
of tree), on a 6.12 debug kernel (KASAN, lockdep, kmemleak, fault
injection) and on an arm64 kernel (qemu-system-aarch64 -M virt), both
with the core fixes: the KUnit suites, the kselftests of the last patch,
the userspace's own tests, the ONNX operator tests and a model zoo
checked against an independent ONNX reference, with a clean kernel log.
On arm64 the MT8183 path runs from a device-tree node: the remote
processor driver boots a model of the APU's cores (registers, interrupts
and memory of the guest) that runs the open firmware, and the MT8183
kselftests run on the device its channels give, crash and hang recovery
included. After each patch of the series, drivers/accel/ and the remote
processor driver compile with W=1 and sparse, on x86_64 and arm64, as
modules and built in; each patch passes checkpatch --strict.
'''


def run(*cmd, cwd=None, env=None, inp=None):
    r = subprocess.run(cmd, cwd=cwd, env=env, input=inp, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit(f'mkseries: {" ".join(cmd)}: {r.stderr.strip()}')
    return r.stdout


def in_git():
    return subprocess.run(['git', 'rev-parse', '--is-inside-work-tree'], cwd=TOP,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def tracked():
    """The kernel files: committed ones in a git checkout, else (a copy of
    the tree without .git, as the clean root has) the files there are."""
    if not in_git():
        out = []
        for path in KERNEL_PATHS:
            full = os.path.join(TOP, path)
            if os.path.isfile(full):
                out.append(path)
            for d, _, names in os.walk(full):
                out += [os.path.relpath(os.path.join(d, n), TOP) for n in names]
        return sorted(out)
    untracked = [f for f in run('git', 'ls-files', '-o', '--exclude-standard',
                                '--', *KERNEL_PATHS, cwd=TOP).splitlines()]
    if untracked:
        sys.exit('mkseries: not committed, so not in the series: ' + ', '.join(untracked))
    out = run('git', 'ls-files', cwd=TOP).splitlines()
    return [f for f in out if f.startswith(KERNEL_PATHS)]


def head(path):
    """A file as committed (the series is of HEAD, not of the work tree),
    or as it is in a tree without git."""
    if not in_git():
        with open(os.path.join(TOP, path), 'rb') as f:
            return f.read()
    r = subprocess.run(['git', 'show', 'HEAD:' + path], cwd=TOP,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit(f'mkseries: {path} is not in HEAD')
    return r.stdout


def expand(patterns, files):
    return [f for f in files if any(fnmatch.fnmatch(f, p) for p in patterns)]


def kconfig_for(text, symbols):
    """The driver's Kconfig with the entries of @symbols only."""
    parts = re.split(r'(?m)^(?=config )', text)
    keep = [parts[0]]
    for p in parts[1:]:
        if p.split()[1] in symbols:
            keep.append(p)
    return ''.join(keep).rstrip('\n') + '\n'


def makefile_for(text, symbols):
    """The driver's Makefile with the paragraphs of @symbols only."""
    keep = []
    for para in text.rstrip('\n').split('\n\n'):
        used = re.findall(r'\$\(CONFIG_([A-Z0-9_]+)\)', para)
        if all(u in symbols for u in used):
            keep.append(para)
    return '\n\n'.join(keep) + '\n'


def insert_sorted_line(text, line, prefix):
    """Insert @line among the lines starting with @prefix, sorted."""
    lines = text.split('\n')
    idx = [i for i, l in enumerate(lines) if l.startswith(prefix)]
    if not idx:
        sys.exit(f'mkseries: no line starting with {prefix!r}')
    at = idx[-1] + 1
    for i in idx:
        if lines[i] > line:
            at = i
            break
    lines.insert(at, line)
    return '\n'.join(lines)


def maintainers_entries(files):
    """Our MAINTAINERS entries, each with the F: lines that cover @files;
    an entry that covers none of them is left out."""
    with open(os.path.join(TOP, 'MAINTAINERS')) as f:
        entries = [e.split('\n') for e in f.read().strip('\n').split('\n\n')]
    out = []
    for entry in entries:
        kept = [l for l in entry if not l.startswith('F:\t') or
                any(x == l[3:] or (l.endswith('/') and x.startswith(l[3:]))
                    for x in files)]
        if any(l.startswith('F:\t') for l in kept):
            out.append(kept)
    return out


def maintainers_for(base, files):
    """The kernel's MAINTAINERS with our entries in their sorted places."""
    lines = base.split('\n')
    for entry in maintainers_entries(files):
        # An entry is a title line after a blank line, then "X:\t" lines.
        # The file is not sorted as a whole: place ours among the titles
        # of its first word ("DRM"), before the first that sorts after it.
        start = lines.index('Maintainers List')
        word = entry[0].split()[0] + ' '
        titles = [i for i in range(start + 1, len(lines) - 1)
                  if lines[i - 1] == '' and lines[i].startswith(word) and
                  re.match(r'^[A-Z]:\t', lines[i + 1])]
        at = next((i for i in titles if lines[i] > entry[0]), None)
        if at is None:
            sys.exit('mkseries: no place for the MAINTAINERS entry ' + entry[0])
        lines = lines[:at] + entry + [''] + lines[at:]
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--ksrc', default='/usr/src/linux-source-6.12')
    ap.add_argument('--out', default=os.path.join(TOP, 'build', 'series'))
    args = ap.parse_args()

    # checkpatch's limit for commit messages.
    for p in PATCHES:
        for line in p['body'].split('\n'):
            if len(line) > 75:
                sys.exit(f"mkseries: {p['subject']}: body line over 75 columns: {line}")
    files = tracked()
    owned = {}
    for n, p in enumerate(PATCHES):
        p['paths'] = expand(p['files'], files) if p['files'] else []
        for f in p['paths']:
            if f in owned:
                sys.exit(f'mkseries: {f} is in patches {owned[f] + 1} and {n + 1}')
            owned[f] = n
    # Kconfig and Makefile are written per patch, not copied.
    generated = {'drivers/accel/tapu/Kconfig', 'drivers/accel/tapu/Makefile'}
    # This tree's entries of the kernel's drivers/remoteproc/ files.
    fragments = {'drivers/remoteproc/Kconfig', 'drivers/remoteproc/Makefile'}
    missing = sorted(set(files) - set(owned) - generated - fragments)
    if missing:
        sys.exit('mkseries: in no patch: ' + ', '.join(missing))
    for n, p in enumerate(PATCHES):
        if p['files'] and not p['paths']:
            sys.exit(f'mkseries: patch {n + 1} matches no file')
    kconfig = head('drivers/accel/tapu/Kconfig').decode()
    makefile = head('drivers/accel/tapu/Makefile').decode()
    all_symbols = [s for p in PATCHES for s in p.get('symbols', [])]
    if sorted(all_symbols) != sorted(re.findall(r'(?m)^config (\S+)', kconfig)):
        sys.exit('mkseries: the patches do not introduce every Kconfig symbol once')
    core_fixes = sorted(os.path.join(TOP, 'tools/testing/tapu/kernel-patches', f)
                       for f in os.listdir(os.path.join(TOP, 'tools/testing/tapu/kernel-patches'))
                       if f.endswith('.patch'))

    def base(path):
        with open(os.path.join(args.ksrc, path)) as f:
            return f.read()

    work = os.path.join(args.out, 'tree')
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(work)
    hooked = {'accel': ['drivers/accel/Kconfig', 'drivers/accel/Makefile'],
              'remoteproc': sorted(fragments),
              'docs': ['Documentation/accel/index.rst'],
              'selftests': ['tools/testing/selftests/Makefile']}
    basefiles = ['MAINTAINERS'] + [f for v in hooked.values() for f in v]
    for fix in core_fixes:
        with open(fix) as f:
            basefiles += re.findall(r'(?m)^--- a/(\S+)$', f.read())
    env = dict(os.environ, GIT_AUTHOR_NAME='The TAPU authors',
               GIT_AUTHOR_EMAIL='tapu-devel@lists.invalid',
               GIT_COMMITTER_NAME='The TAPU authors',
               GIT_COMMITTER_EMAIL='tapu-devel@lists.invalid',
               GIT_AUTHOR_DATE=DATE, GIT_COMMITTER_DATE=DATE)
    run('git', 'init', '-q', work)
    for f in basefiles:
        os.makedirs(os.path.dirname(os.path.join(work, f)) or work, exist_ok=True)
        shutil.copy(os.path.join(args.ksrc, f), os.path.join(work, f))
    run('git', 'add', '-f', '--', *basefiles, cwd=work)
    run('git', '-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '-m',
        'base: the files the series changes, as in the kernel tree', cwd=work, env=env)
    base_rev = run('git', 'rev-parse', 'HEAD', cwd=work).strip()
    # The core fixes first, as the series' authors send them.
    for fix in core_fixes:
        run('git', 'am', '-q', fix, cwd=work, env=env)
        run('git', '-c', 'commit.gpgsign=false', 'commit', '-q', '--amend',
            '--no-edit', '--reset-author', '--no-verify', cwd=work, env=env)

    def write(path, text):
        full = os.path.join(work, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)

    symbols, present = [], []
    for p in PATCHES:
        for f in p['paths']:
            os.makedirs(os.path.dirname(os.path.join(work, f)), exist_ok=True)
            with open(os.path.join(work, f), 'wb') as out:
                out.write(head(f))
        present += p['paths']
        if p.get('symbols'):
            symbols += p['symbols']
            write('drivers/accel/tapu/Kconfig', kconfig_for(kconfig, symbols))
            write('drivers/accel/tapu/Makefile', makefile_for(makefile, symbols))
            present += sorted(generated)
        for h in p.get('hooks', []):
            if h == 'accel':
                write('drivers/accel/Kconfig', insert_sorted_line(
                    base('drivers/accel/Kconfig'),
                    'source "drivers/accel/tapu/Kconfig"', 'source "drivers/accel/'))
                write('drivers/accel/Makefile', insert_sorted_line(
                    base('drivers/accel/Makefile'),
                    'obj-$(CONFIG_DRM_ACCEL_TAPU)\t\t+= tapu/', 'obj-$(CONFIG_DRM_ACCEL_'))
            elif h == 'remoteproc':
                entry = head('drivers/remoteproc/Kconfig').decode()
                entry = entry[entry.index('\nconfig ') + 1:]
                text = base('drivers/remoteproc/Kconfig')
                at = text.index('\nconfig MTK_SCP\n') + 1
                write('drivers/remoteproc/Kconfig', text[:at] + entry + '\n' + text[at:])
                line = [l for l in head('drivers/remoteproc/Makefile').decode().split('\n')
                        if l.startswith('obj-')]
                text = base('drivers/remoteproc/Makefile').split('\n')
                at = next(i for i, l in enumerate(text) if l.startswith('obj-$(CONFIG_MTK_SCP)'))
                write('drivers/remoteproc/Makefile', '\n'.join(text[:at] + line + text[at:]))
            elif h == 'docs':
                write('Documentation/accel/index.rst', insert_sorted_line(
                    base('Documentation/accel/index.rst'), '   tapu/index', '   qaic/'))
            elif h == 'selftests':
                write('tools/testing/selftests/Makefile', insert_sorted_line(
                    base('tools/testing/selftests/Makefile'),
                    'TARGETS += drivers/accel/tapu', 'TARGETS += drivers/'))
        write('MAINTAINERS', maintainers_for(base('MAINTAINERS'), present))
        run('git', 'add', '-f', '-A', cwd=work)
        run('git', '-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify',
            '-F', '-', cwd=work, env=env, inp=p['subject'] + '\n\n' + p['body'] + '\n')
    if (kconfig_for(kconfig, symbols) != kconfig.rstrip('\n') + '\n' or
            makefile_for(makefile, symbols) != makefile.rstrip('\n') + '\n'):
        sys.exit("mkseries: the last patch's Kconfig or Makefile is not the tree's")

    pdir = os.path.join(args.out, 'patches')
    run('git', 'format-patch', '-q', '--cover-letter', '--no-signature',
        '--subject-prefix=PATCH', '-o', pdir, base_rev, cwd=work, env=env)
    cover = os.path.join(pdir, '0000-cover-letter.patch')
    with open(cover) as f:
        text = f.read()
    text = text.replace('*** SUBJECT HERE ***',
                        'accel: Add TAPU, a driver for small inference accelerators')
    text = text.replace('*** BLURB HERE ***', COVER.rstrip('\n'))
    with open(cover, 'w') as f:
        f.write(text)
    for name in sorted(os.listdir(pdir)):
        print(os.path.join(pdir, name))


if __name__ == '__main__':
    main()
