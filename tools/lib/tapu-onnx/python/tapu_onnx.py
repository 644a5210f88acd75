# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python bindings of libtapu-onnx (ctypes over libtapu-onnx.so.0), in the
shape of ONNX Runtime's InferenceSession, with numpy arrays.

    import tapu_onnx
    sess = tapu_onnx.InferenceSession('model.onnx')   # TAPU device, else CPU
    x = sess.get_inputs()[0]
    y, = sess.run(None, {x.name: array})

providers: 'TAPUExecutionProvider' (the first TAPU device) and
'CPUExecutionProvider' (the library's CPU kernels), tried in order, as in
ONNX Runtime; sess.get_providers() says which one the session uses.
TAPU_ONNX_LIBRARY names the shared library to load (default
libtapu-onnx.so.0 from the loader's path). A session is not thread-safe;
one model may serve sessions in several threads, as in the C library.
Errors raise TapuOnnxError with the library's message and errno.
"""
import ctypes
import os

import numpy as np

_MAX_RANK = 8
_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64}
_TYPES = {np.dtype(v): k for k, v in _DTYPES.items()}
_TYPE_NAMES = {1: 'tensor(float)', 2: 'tensor(uint8)', 3: 'tensor(int8)',
               6: 'tensor(int32)', 7: 'tensor(int64)'}
_ENOSPC = 28


class _Info(ctypes.Structure):
    _fields_ = [('name', ctypes.c_char_p), ('type', ctypes.c_int), ('rank', ctypes.c_int),
                ('dims', ctypes.c_int64 * _MAX_RANK)]


class _Error(ctypes.Structure):
    _fields_ = [('code', ctypes.c_int), ('message', ctypes.c_char * 512)]


class TapuOnnxError(RuntimeError):
    """An error of libtapu-onnx: .errno (positive) and the message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.errno = -code if code < 0 else code


_lib = None


def _library():
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(os.environ.get('TAPU_ONNX_LIBRARY', 'libtapu-onnx.so.0'))
        vp, err = ctypes.c_void_p, ctypes.POINTER(_Error)
        for name, args in (
                ('tapu_onnx_model_load', [ctypes.c_char_p, ctypes.POINTER(vp), err]),
                ('tapu_onnx_model_num_inputs', [vp]), ('tapu_onnx_model_num_outputs', [vp]),
                ('tapu_onnx_model_input', [vp, ctypes.c_int, ctypes.POINTER(_Info)]),
                ('tapu_onnx_model_output', [vp, ctypes.c_int, ctypes.POINTER(_Info)]),
                ('tapu_onnx_session_create', [vp, vp, ctypes.POINTER(vp), err]),
                ('tapu_onnx_set_input', [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                         ctypes.POINTER(ctypes.c_int64), vp, err]),
                ('tapu_onnx_run', [vp, err]),
                ('tapu_onnx_get_output', [vp, ctypes.c_char_p, ctypes.POINTER(_Info), vp,
                                          ctypes.c_size_t, err]),
                ('tapu_device_open_index', [ctypes.c_uint, ctypes.POINTER(vp)])):
            getattr(lib, name).argtypes = args
            getattr(lib, name).restype = ctypes.c_int
        for name in ('tapu_onnx_model_free', 'tapu_onnx_session_free', 'tapu_device_close'):
            getattr(lib, name).argtypes = [vp]
            getattr(lib, name).restype = None
        _lib = lib
    return _lib


def _check(ret, e):
    if ret:
        raise TapuOnnxError(ret, e.message.decode(errors='replace'))


class NodeArg:
    """A graph input or output: name, shape (None where open), type."""

    def __init__(self, info):
        self.name = info.name.decode()
        self.shape = [None if d < 0 else int(d) for d in info.dims[:info.rank]] \
            if info.rank >= 0 else None
        self.type = _TYPE_NAMES.get(info.type, 'unknown')

    def __repr__(self):
        return f'NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape})'


class InferenceSession:
    """A model compiled for a TAPU device or run on the CPU."""

    def __init__(self, path, providers=None):
        lib = _library()
        e = _Error()
        self._lib, self._model, self._sess, self._dev = lib, ctypes.c_void_p(), None, None
        _check(lib.tapu_onnx_model_load(os.fsencode(path), ctypes.byref(self._model),
                                        ctypes.byref(e)), e)
        self._inputs = [self._arg(lib.tapu_onnx_model_input, i)
                        for i in range(lib.tapu_onnx_model_num_inputs(self._model))]
        self._outputs = [self._arg(lib.tapu_onnx_model_output, i)
                         for i in range(lib.tapu_onnx_model_num_outputs(self._model))]
        tried = []
        for p in providers or ('TAPUExecutionProvider', 'CPUExecutionProvider'):
            dev = ctypes.c_void_p()
            if p == 'TAPUExecutionProvider':
                ret = lib.tapu_device_open_index(0, ctypes.byref(dev))
                if ret:
                    tried.append(f'{p}: no device ({os.strerror(-ret)})')
                    continue
            elif p != 'CPUExecutionProvider':
                raise ValueError(f'unknown provider {p!r}')
            sess = ctypes.c_void_p()
            ret = lib.tapu_onnx_session_create(self._model, dev, ctypes.byref(sess),
                                               ctypes.byref(e))
            if not ret:
                self._sess, self._dev, self._provider = sess, dev, p
                return
            tried.append(f'{p}: {e.message.decode(errors="replace")}')
            if dev:
                lib.tapu_device_close(dev)
        self.close()
        raise TapuOnnxError(-19, '; '.join(tried) or 'no provider')

    def _arg(self, fn, i):
        info = _Info()
        fn(self._model, i, ctypes.byref(info))
        return NodeArg(info)

    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_providers(self):
        return [self._provider]

    def run(self, output_names, input_feed):
        """Runs on @input_feed ({name: array}); returns the arrays of
        @output_names (all outputs if None), in that order."""
        lib, e = self._lib, _Error()
        keep = []
        for name, value in input_feed.items():
            a = np.ascontiguousarray(value)
            if a.dtype not in _TYPES:
                raise TypeError(f'input {name!r}: {a.dtype} is not a type of the library')
            dims = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
            keep.append(a)
            _check(lib.tapu_onnx_set_input(self._sess, name.encode(), _TYPES[a.dtype], a.ndim,
                                           dims, a.ctypes.data_as(ctypes.c_void_p),
                                           ctypes.byref(e)), e)
        _check(lib.tapu_onnx_run(self._sess, ctypes.byref(e)), e)
        out = []
        for name in output_names or [o.name for o in self._outputs]:
            info = _Info()
            ret = lib.tapu_onnx_get_output(self._sess, name.encode(), ctypes.byref(info),
                                           None, 0, ctypes.byref(e))
            if ret and ret != -_ENOSPC:
                _check(ret, e)
            y = np.empty([int(d) for d in info.dims[:info.rank]], _DTYPES[info.type])
            _check(lib.tapu_onnx_get_output(self._sess, name.encode(), None,
                                            y.ctypes.data_as(ctypes.c_void_p), y.nbytes,
                                            ctypes.byref(e)), e)
            out.append(y)
        return out

    def close(self):
        """Frees the session, its device and the model (also when collected)."""
        lib = self._lib
        if self._sess:
            lib.tapu_onnx_session_free(self._sess)
        if self._dev:
            lib.tapu_device_close(self._dev)
        if self._model:
            lib.tapu_onnx_model_free(self._model)
        self._sess = self._dev = self._model = None

    def __del__(self):
        if getattr(self, '_lib', None):
            self.close()
