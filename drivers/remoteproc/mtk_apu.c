// SPDX-License-Identifier: GPL-2.0-only
/* Copyright 2026 The TAPU authors */

/*
 * Remote processor driver for the APU of the MediaTek MT8183: two Cadence
 * Xtensa VP6 DSP cores that run one ELF firmware image from a carveout.
 * Core n serves the n-th virtio device of the firmware's resource table,
 * whose vrings have the notify ids 2n and 2n + 1; a kick of vring v sets
 * bit v of the core's host-to-DSP interrupt register. The DSPs reach memory
 * through the APU's M4U: the carveout is mapped at the device address given
 * by the iommu-addresses of its reserved-memory node, the rpmsg buffers
 * come from a pool that the M4U maps at its physical address (the vrings
 * carry physical addresses), and the vrings through the DMA API of this
 * device.
 */

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/clk.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/elf.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/pm_domain.h>
#include <linux/pm_runtime.h>
#include <linux/remoteproc.h>

#include "remoteproc_internal.h"

#define MTK_APU_SW_RST				0x00c
#define   MTK_APU_SW_RST_OCD_HALT_ON_RST	BIT(12)
#define   MTK_APU_SW_RST_IPU_D_RST		BIT(8)
#define   MTK_APU_SW_RST_IPU_B_RST		BIT(4)
#define MTK_APU_CORE_CTRL			0x110
#define   MTK_APU_CORE_CTRL_PDEBUG_ENABLE	BIT(31)
#define   MTK_APU_CORE_CTRL_PBCLK_ENABLE	BIT(26)
#define   MTK_APU_CORE_CTRL_RUN_STALL		BIT(23)
#define   MTK_APU_CORE_CTRL_STATE_VECTOR_SELECT	BIT(19)
#define   MTK_APU_CORE_CTRL_PIF_GATED		BIT(17)
/* DSP to host: the DSP raises its interrupt, the host acks with 1. */
#define MTK_APU_CORE_XTENSA_INT			0x114
/* Set by the firmware with its interrupt when it cannot go on. */
#define   MTK_APU_CORE_XTENSA_INT_FATAL		BIT(31)
/* Host to DSP: bit v kicks vring v. */
#define MTK_APU_CORE_CTL_XTENSA_INT		0x118
#define MTK_APU_CORE_DEFAULT0			0x13c
#define   MTK_APU_CORE_DEFAULT0_QOS_SWAP	GENMASK(29, 28)
#define   MTK_APU_CORE_DEFAULT0_ARUSER		GENMASK(27, 23)
#define   MTK_APU_CORE_DEFAULT0_AWUSER		GENMASK(22, 18)
#define MTK_APU_CORE_DEFAULT1			0x140
#define   MTK_APU_CORE_DEFAULT1_AWUSER_IDMA	GENMASK(9, 5)
#define   MTK_APU_CORE_DEFAULT1_ARUSER_IDMA	GENMASK(4, 0)
#define MTK_APU_CORE_XTENSA_ALTRESETVEC		0x1f8

/* AXI user bits that send a bus master's accesses through the M4U. */
#define MTK_APU_AXUSER_IOMMU			0x10
/* The reset pulse must last 27 ns. */
#define MTK_APU_RESET_NS			27

#define MTK_APU_NUM_CORES			2
#define MTK_APU_VRINGS_PER_CORE			2

#define MTK_APU_DEFAULT_FIRMWARE		"mediatek/mt8183/apu.elf"

struct mtk_apu;

/**
 * struct mtk_apu_core - one VP6 core
 * @apu: the APU
 * @regs: the core's control registers
 * @irq: the core's interrupt to the host
 * @status: CORE_XTENSA_INT as read by the hard interrupt handler
 */
struct mtk_apu_core {
	struct mtk_apu *apu;
	void __iomem *regs;
	int irq;
	u32 status;
};

/**
 * struct mtk_apu - the APU remote processor
 * @dev: the APU platform device
 * @rproc: its remote processor
 * @cores: the VP6 cores
 * @clks: every clock of the node, enabled while the APU is powered
 * @num_clks: number of @clks
 * @pds: the power domains, when there are several
 * @domain: the IOMMU domain of the DSPs' accesses, NULL without IOMMU
 * @fw_pa: physical address of the firmware carveout
 * @fw_da: its device address
 * @fw_size: its size
 * @buf_pa: physical (and device) address of the rpmsg buffer pool
 * @buf_size: its size, 0 without a pool
 */
struct mtk_apu {
	struct device *dev;
	struct rproc *rproc;
	struct mtk_apu_core cores[MTK_APU_NUM_CORES];
	struct clk_bulk_data *clks;
	int num_clks;
	struct dev_pm_domain_list *pds;
	struct iommu_domain *domain;
	phys_addr_t fw_pa;
	dma_addr_t fw_da;
	size_t fw_size;
	phys_addr_t buf_pa;
	size_t buf_size;
};

/*
 * Whether the driver maps the carveout in the IOMMU domain: seen at its
 * physical address, it is a direct region, which the IOMMU core mapped.
 */
static bool mtk_apu_fw_remapped(struct mtk_apu *apu)
{
	return apu->domain && apu->fw_da != apu->fw_pa;
}

static int mtk_apu_fw_alloc(struct rproc *rproc, struct rproc_mem_entry *mem)
{
	struct mtk_apu *apu = rproc->priv;
	int ret;

	mem->va = memremap(apu->fw_pa, apu->fw_size, MEMREMAP_WC);
	if (!mem->va)
		return -ENOMEM;
	if (mtk_apu_fw_remapped(apu)) {
		ret = iommu_map(apu->domain, apu->fw_da, apu->fw_pa,
				apu->fw_size, IOMMU_READ | IOMMU_WRITE,
				GFP_KERNEL);
		if (ret) {
			memunmap(mem->va);
			mem->va = NULL;
			return ret;
		}
	}
	return 0;
}

/* Also called when the allocation failed. */
static int mtk_apu_fw_release(struct rproc *rproc, struct rproc_mem_entry *mem)
{
	struct mtk_apu *apu = rproc->priv;

	if (!mem->va)
		return 0;
	if (mtk_apu_fw_remapped(apu))
		iommu_unmap(apu->domain, apu->fw_da, apu->fw_size);
	memunmap(mem->va);
	mem->va = NULL;
	return 0;
}

/* Powers the APU before the firmware loads, until it is stopped. */
static int mtk_apu_prepare(struct rproc *rproc)
{
	struct mtk_apu *apu = rproc->priv;

	return pm_runtime_resume_and_get(apu->dev);
}

static int mtk_apu_unprepare(struct rproc *rproc)
{
	struct mtk_apu *apu = rproc->priv;

	pm_runtime_put(apu->dev);
	return 0;
}

/*
 * The carveout, the virtio devices' buffer pool and the crash dump segment,
 * registered with the resource table: remoteproc releases them with the
 * table, and nothing when parsing fails, so a failure leaves nothing
 * registered.
 */
static int mtk_apu_parse_fw(struct rproc *rproc, const struct firmware *fw)
{
	struct rproc_mem_entry *mem[1 + MTK_APU_NUM_CORES] = {};
	struct mtk_apu *apu = rproc->priv;
	int i, ret = -ENOMEM;

	mem[0] = rproc_mem_entry_init(apu->dev, NULL, apu->fw_pa, apu->fw_size,
				      apu->fw_da, mtk_apu_fw_alloc,
				      mtk_apu_fw_release, "firmware");
	if (!mem[0])
		goto err_free;
	/* remoteproc_virtio takes vdev n's buffers from memory-region 1. */
	for (i = 0; apu->buf_size && i < MTK_APU_NUM_CORES; i++) {
		mem[1 + i] = rproc_of_resm_mem_entry_init(apu->dev, 1,
							  apu->buf_size,
							  apu->buf_pa,
							  "vdev%dbuffer", i);
		if (!mem[1 + i])
			goto err_free;
	}
	/* A crash dump holds the firmware's memory. */
	ret = rproc_coredump_add_segment(rproc, apu->fw_da, apu->fw_size);
	if (ret)
		goto err_free;
	ret = rproc_elf_load_rsc_table(rproc, fw);
	if (ret)
		goto err_segment;
	for (i = 0; i < ARRAY_SIZE(mem) && mem[i]; i++)
		rproc_add_carveout(rproc, mem[i]);
	return 0;
err_segment:
	rproc_coredump_cleanup(rproc);
err_free:
	for (i = 0; i < ARRAY_SIZE(mem); i++)
		kfree(mem[i]);
	return ret;
}

static void mtk_apu_core_boot(struct mtk_apu *apu, struct mtk_apu_core *core)
{
	u32 ctrl;

	writel(apu->rproc->bootaddr, core->regs + MTK_APU_CORE_XTENSA_ALTRESETVEC);

	/* Clocked and stalled, booting from the alternate vector. */
	ctrl = readl(core->regs + MTK_APU_CORE_CTRL);
	ctrl |= MTK_APU_CORE_CTRL_PDEBUG_ENABLE | MTK_APU_CORE_CTRL_PBCLK_ENABLE |
		MTK_APU_CORE_CTRL_STATE_VECTOR_SELECT |
		MTK_APU_CORE_CTRL_RUN_STALL | MTK_APU_CORE_CTRL_PIF_GATED;
	writel(ctrl, core->regs + MTK_APU_CORE_CTRL);

	writel(MTK_APU_SW_RST_OCD_HALT_ON_RST | MTK_APU_SW_RST_IPU_B_RST |
	       MTK_APU_SW_RST_IPU_D_RST, core->regs + MTK_APU_SW_RST);
	ndelay(MTK_APU_RESET_NS);
	writel(0, core->regs + MTK_APU_SW_RST);

	ctrl &= ~MTK_APU_CORE_CTRL_PIF_GATED;
	writel(ctrl, core->regs + MTK_APU_CORE_CTRL);

	if (apu->domain) {
		writel(FIELD_PREP(MTK_APU_CORE_DEFAULT0_QOS_SWAP, 1) |
		       FIELD_PREP(MTK_APU_CORE_DEFAULT0_ARUSER, MTK_APU_AXUSER_IOMMU) |
		       FIELD_PREP(MTK_APU_CORE_DEFAULT0_AWUSER, MTK_APU_AXUSER_IOMMU),
		       core->regs + MTK_APU_CORE_DEFAULT0);
		writel(FIELD_PREP(MTK_APU_CORE_DEFAULT1_ARUSER_IDMA, MTK_APU_AXUSER_IOMMU) |
		       FIELD_PREP(MTK_APU_CORE_DEFAULT1_AWUSER_IDMA, MTK_APU_AXUSER_IOMMU),
		       core->regs + MTK_APU_CORE_DEFAULT1);
	}

	ctrl &= ~MTK_APU_CORE_CTRL_RUN_STALL;
	writel(ctrl, core->regs + MTK_APU_CORE_CTRL);
}

/* Stalls the core and holds it in reset: it no longer touches memory. */
static void mtk_apu_core_halt(struct mtk_apu_core *core)
{
	u32 ctrl = readl(core->regs + MTK_APU_CORE_CTRL);

	writel(ctrl | MTK_APU_CORE_CTRL_RUN_STALL, core->regs + MTK_APU_CORE_CTRL);
	writel(MTK_APU_SW_RST_IPU_B_RST | MTK_APU_SW_RST_IPU_D_RST,
	       core->regs + MTK_APU_SW_RST);
}

static int mtk_apu_start(struct rproc *rproc)
{
	struct mtk_apu *apu = rproc->priv;
	int i;

	/* Nothing from a previous run is taken for this one's. */
	for (i = 0; i < MTK_APU_NUM_CORES; i++) {
		writel(1, apu->cores[i].regs + MTK_APU_CORE_XTENSA_INT);
		enable_irq(apu->cores[i].irq);
	}
	for (i = 0; i < MTK_APU_NUM_CORES; i++)
		mtk_apu_core_boot(apu, &apu->cores[i]);
	return 0;
}

static int mtk_apu_stop(struct rproc *rproc)
{
	struct mtk_apu *apu = rproc->priv;
	int i;

	for (i = 0; i < MTK_APU_NUM_CORES; i++)
		mtk_apu_core_halt(&apu->cores[i]);
	for (i = 0; i < MTK_APU_NUM_CORES; i++)
		disable_irq(apu->cores[i].irq);
	return 0;
}

static void mtk_apu_kick(struct rproc *rproc, int vqid)
{
	struct mtk_apu *apu = rproc->priv;
	u32 n = vqid / MTK_APU_VRINGS_PER_CORE;

	if (n < MTK_APU_NUM_CORES)
		writel(BIT(vqid), apu->cores[n].regs + MTK_APU_CORE_CTL_XTENSA_INT);
}

static const struct rproc_ops mtk_apu_ops = {
	.prepare = mtk_apu_prepare,
	.unprepare = mtk_apu_unprepare,
	.start = mtk_apu_start,
	.stop = mtk_apu_stop,
	.kick = mtk_apu_kick,
	.load = rproc_elf_load_segments,
	.parse_fw = mtk_apu_parse_fw,
	.find_loaded_rsc_table = rproc_elf_find_loaded_rsc_table,
	.sanity_check = rproc_elf_sanity_check,
	.get_boot_addr = rproc_elf_get_boot_addr,
};

static irqreturn_t mtk_apu_irq(int irq, void *data)
{
	struct mtk_apu_core *core = data;

	core->status = readl(core->regs + MTK_APU_CORE_XTENSA_INT);
	writel(1, core->regs + MTK_APU_CORE_XTENSA_INT);
	return IRQ_WAKE_THREAD;
}

static irqreturn_t mtk_apu_irq_thread(int irq, void *data)
{
	struct mtk_apu_core *core = data;
	struct rproc *rproc = core->apu->rproc;
	int vqid = (core - core->apu->cores) * MTK_APU_VRINGS_PER_CORE;
	int i;

	if (core->status & MTK_APU_CORE_XTENSA_INT_FATAL) {
		rproc_report_crash(rproc, RPROC_FATAL_ERROR);
		return IRQ_HANDLED;
	}
	for (i = 0; i < MTK_APU_VRINGS_PER_CORE; i++)
		rproc_vq_interrupt(rproc, vqid + i);
	return IRQ_HANDLED;
}

/*
 * The device address of reserved-memory region @np for the DSPs: with an
 * IOMMU, the one that the region's iommu-addresses give for this node (the
 * M4U reports them as reserved regions: kept out of the DMA API's
 * allocations, and mapped 1:1 by the IOMMU core if at the physical
 * address); without one, its physical address.
 */
static int mtk_apu_region_da(struct mtk_apu *apu, struct device_node *np,
			     struct reserved_mem *rmem, phys_addr_t *da)
{
	struct device *dev = apu->dev;
	const __be32 *maps, *end;
	size_t len;
	int size;

	*da = rmem->base;
	if (!apu->domain)
		return 0;
	maps = of_get_property(np, "iommu-addresses", &size);
	end = maps ? maps + size / sizeof(*maps) : NULL;
	while (maps && maps < end) {
		struct device_node *user = of_find_node_by_phandle(be32_to_cpup(maps++));

		if (!user)
			break;
		maps = of_translate_dma_region(user, maps, da, &len);
		of_node_put(user);
		if (user == dev->of_node && len == rmem->size)
			return 0;
	}
	return dev_err_probe(dev, -EINVAL,
			     "%pOF has no iommu-addresses of its size for this device\n",
			     np);
}

/*
 * A direct region must be mapped 1:1 in the domain before the DSPs use it:
 * the IOMMU core does it at the device's probe, if the IOMMU driver reports
 * the region (the 6.12 M4U driver needs the fix of kernel-patches/) and no
 * other device of the domain mapped those addresses first.
 */
static int mtk_apu_check_direct(struct mtk_apu *apu, phys_addr_t pa,
				size_t size)
{
	size_t off;

	for (off = 0; off < size; off += PAGE_SIZE)
		if (iommu_iova_to_phys(apu->domain, pa + off) != pa + off)
			return dev_err_probe(apu->dev, -EINVAL,
					     "%pa is not mapped 1:1 in the IOMMU domain\n",
					     &pa);
	return 0;
}

/*
 * memory-region 0, the firmware carveout, and 1, the rpmsg buffer pool:
 * virtio-rpmsg writes its buffers' physical addresses into the vrings, so
 * the DSPs must see the pool there, below 4 GiB. Through an IOMMU only the
 * pool's direct mapping gives that; without one the pool is optional.
 */
static int mtk_apu_parse_regions(struct mtk_apu *apu)
{
	struct device *dev = apu->dev;
	struct reserved_mem *rmem;
	struct device_node *np;
	phys_addr_t da;
	int ret;

	np = of_parse_phandle(dev->of_node, "memory-region", 0);
	rmem = np ? of_reserved_mem_lookup(np) : NULL;
	ret = rmem ? mtk_apu_region_da(apu, np, rmem, &da) :
		dev_err_probe(dev, -EINVAL, "no reserved memory-region\n");
	of_node_put(np);
	if (ret)
		return ret;
	apu->fw_pa = rmem->base;
	apu->fw_size = rmem->size;
	apu->fw_da = da;
	if (apu->domain && da == rmem->base) {
		ret = mtk_apu_check_direct(apu, rmem->base, rmem->size);
		if (ret)
			return ret;
	}

	np = of_parse_phandle(dev->of_node, "memory-region", 1);
	if (!np && !apu->domain)
		return 0;
	rmem = np ? of_reserved_mem_lookup(np) : NULL;
	if (!rmem || !of_device_is_compatible(np, "shared-dma-pool") ||
	    !of_property_read_bool(np, "no-map"))
		ret = dev_err_probe(dev, -EINVAL,
				    "memory-region 1 is not a no-map shared-dma-pool\n");
	else
		ret = mtk_apu_region_da(apu, np, rmem, &da);
	if (!ret && (da != rmem->base ||
		     rmem->base + rmem->size - 1 > U32_MAX))
		ret = dev_err_probe(dev, -EINVAL,
				    "%pOF is not seen at its physical address below 4 GiB\n",
				    np);
	of_node_put(np);
	if (!ret && apu->domain)
		ret = mtk_apu_check_direct(apu, rmem->base, rmem->size);
	if (ret)
		return ret;
	apu->buf_pa = rmem->base;
	apu->buf_size = rmem->size;
	return 0;
}

static int mtk_apu_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	const char *fw_name = MTK_APU_DEFAULT_FIRMWARE;
	struct iommu_domain *domain;
	struct mtk_apu *apu;
	struct rproc *rproc;
	int i, ret;

	ret = rproc_of_parse_firmware(dev, 0, &fw_name);
	if (ret && ret != -EINVAL)
		return ret;

	rproc = devm_rproc_alloc(dev, dev_name(dev), &mtk_apu_ops, fw_name,
				 sizeof(*apu));
	if (!rproc)
		return -ENOMEM;
	apu = rproc->priv;
	apu->dev = dev;
	apu->rproc = rproc;

	/* An identity domain maps nothing for us: devices see physical memory. */
	domain = iommu_get_domain_for_dev(dev);
	if (domain && domain->type != IOMMU_DOMAIN_IDENTITY)
		apu->domain = domain;
	ret = mtk_apu_parse_regions(apu);
	if (ret)
		return ret;

	for (i = 0; i < MTK_APU_NUM_CORES; i++) {
		struct mtk_apu_core *core = &apu->cores[i];

		core->apu = apu;
		core->regs = devm_platform_ioremap_resource(pdev, i);
		if (IS_ERR(core->regs))
			return PTR_ERR(core->regs);
		core->irq = platform_get_irq(pdev, i);
		if (core->irq < 0)
			return core->irq;
		/* Enabled while the firmware runs. */
		ret = devm_request_threaded_irq(dev, core->irq, mtk_apu_irq,
						mtk_apu_irq_thread,
						IRQF_ONESHOT | IRQF_NO_AUTOEN,
						dev_name(dev), core);
		if (ret)
			return ret;
	}

	apu->num_clks = devm_clk_bulk_get_all(dev, &apu->clks);
	if (apu->num_clks < 0)
		return dev_err_probe(dev, apu->num_clks, "cannot get the clocks\n");
	/* One power domain is attached by the platform bus, several here. */
	ret = devm_pm_domain_attach_list(dev, NULL, &apu->pds);
	if (ret < 0 && ret != -EEXIST)
		return dev_err_probe(dev, ret, "cannot attach the power domains\n");

	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (ret)
		return ret;
	ret = rproc_coredump_set_elf_info(rproc, ELFCLASS32, EM_XTENSA);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, apu);
	ret = devm_pm_runtime_enable(dev);
	if (ret)
		return ret;
	return devm_rproc_add(dev, rproc);
}

static int mtk_apu_runtime_suspend(struct device *dev)
{
	struct mtk_apu *apu = dev_get_drvdata(dev);

	clk_bulk_disable_unprepare(apu->num_clks, apu->clks);
	return 0;
}

static int mtk_apu_runtime_resume(struct device *dev)
{
	struct mtk_apu *apu = dev_get_drvdata(dev);

	return clk_bulk_prepare_enable(apu->num_clks, apu->clks);
}

static const struct dev_pm_ops mtk_apu_pm_ops = {
	RUNTIME_PM_OPS(mtk_apu_runtime_suspend, mtk_apu_runtime_resume, NULL)
};

static const struct of_device_id mtk_apu_of_match[] = {
	{ .compatible = "mediatek,mt8183-apu" },
	{ }
};
MODULE_DEVICE_TABLE(of, mtk_apu_of_match);

static struct platform_driver mtk_apu_driver = {
	.probe = mtk_apu_probe,
	.driver = {
		.name = "mtk-apu",
		.of_match_table = mtk_apu_of_match,
		.pm = pm_ptr(&mtk_apu_pm_ops),
	},
};
module_platform_driver(mtk_apu_driver);

MODULE_DESCRIPTION("MediaTek MT8183 APU remote processor driver");
MODULE_AUTHOR("The TAPU authors");
MODULE_LICENSE("GPL");
