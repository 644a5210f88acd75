/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Copyright 2026 The TAPU authors */

/*
 * The kernel interfaces the shared TAPU sources use (the ISA validator and
 * executor of drivers/accel/tapu, the uAPI and IPC headers), for a
 * freestanding build. Every <linux/...> and <kunit/...> header those
 * sources include resolves to this file (the Makefile generates one-line
 * stand-ins), so that they compile unchanged for the DSP.
 */

#ifndef __TAPU_FW_COMPAT_H
#define __TAPU_FW_COMPAT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
/* The ISA's structs are read in native order, as on the host. */
#error "the reference firmware runs on little-endian cores only"
#endif

typedef uint8_t u8;
typedef int8_t s8;
typedef uint16_t u16;
typedef int16_t s16;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
typedef int64_t s64;
typedef u8 __u8;
typedef s8 __s8;
typedef u16 __u16;
typedef s16 __s16;
typedef u32 __u32;
typedef s32 __s32;
typedef u64 __u64;
typedef s64 __s64;
typedef u16 __le16;
typedef u32 __le32;
typedef u64 __le64;

#define S8_MIN		INT8_MIN
#define S8_MAX		INT8_MAX
#define U8_MAX		UINT8_MAX
#define S32_MIN		INT32_MIN
#define S32_MAX		INT32_MAX
#define U32_MAX		UINT32_MAX
#define S64_MIN		INT64_MIN
#define S64_MAX		INT64_MAX
#define U64_MAX		UINT64_MAX

#define SZ_64K		0x00010000
#define SZ_1M		0x00100000
#define NSEC_PER_MSEC	1000000ULL

#define cpu_to_le16(x)	((__le16)(u16)(x))
#define cpu_to_le32(x)	((__le32)(u32)(x))
#define cpu_to_le64(x)	((__le64)(u64)(x))
#define le16_to_cpu(x)	cpu_to_le16(x)
#define le32_to_cpu(x)	cpu_to_le32(x)
#define le64_to_cpu(x)	cpu_to_le64(x)

static inline u32 get_unaligned_le32(const void *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return le32_to_cpu(v);
}

#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define static_assert(e, ...)	_Static_assert(e, #e)
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

/* Each argument evaluated once, as in the kernel. */
#define min(a, b) ({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
		     _a < _b ? _a : _b; })
#define max(a, b) ({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
		     _a > _b ? _a : _b; })
#define min_t(t, a, b)		min((t)(a), (t)(b))
#define max_t(t, a, b)		max((t)(a), (t)(b))
#define clamp(v, lo, hi)	min(max(v, lo), hi)
#define clamp_t(t, v, lo, hi)	clamp((t)(v), (t)(lo), (t)(hi))
/* After <stdlib.h>: its abs() is declared, the kernel's is used. */
#undef abs
#define abs(x) ({ __typeof__(x) _x = (x); _x < 0 ? -_x : _x; })

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

static inline size_t array_size(size_t a, size_t b)
{
	size_t n;

	return __builtin_mul_overflow(a, b, &n) ? SIZE_MAX : n;
}

static inline bool mem_is_zero(const void *p, size_t n)
{
	const u8 *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

static inline u64 div_u64(u64 n, u32 d)
{
	return n / d;
}

static inline u64 div64_u64(u64 n, u64 d)
{
	return n / d;
}

static inline u64 div64_u64_rem(u64 n, u64 d, u64 *r)
{
	*r = n % d;
	return n / d;
}

/* One core, no concurrent writer: plain accesses are enough. */
#define READ_ONCE(x)		(*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

/* Ordering of accesses to memory the host shares. */
#define mb()			__sync_synchronize()
#define rmb()			__sync_synchronize()
#define wmb()			__sync_synchronize()

#define WARN_ON(c)		(!!(c))
#define EXPORT_SYMBOL_GPL(s)
#define EXPORT_SYMBOL_IF_KUNIT(s)
#define VISIBLE_IF_KUNIT	static

/* The executor yields between work budgets; a DSP core has nobody to yield to. */
static inline void cond_resched(void)
{
}

/* Monotonic time of the platform, for the executor's calibration. */
u64 ktime_get_ns(void);

#endif /* __TAPU_FW_COMPAT_H */
