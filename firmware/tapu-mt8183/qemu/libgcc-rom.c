// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* Copyright 2026 The TAPU authors */

/*
 * Integer helpers GCC calls on a core without a divider and for 64-bit
 * multiplies. Debian's libgcc for the lx106 leaves them out: on the
 * ESP8266, the chip that core configuration comes from, they are in mask
 * ROM. None of them may use an operation GCC lowers to one of them.
 */

#include <linux/types.h>

/* 32 x 32 -> 64 bits from 16-bit halves: MUL32 gives only the low word. */
static u64 mul32x32(u32 a, u32 b)
{
	u32 a0 = a & 0xffff, a1 = a >> 16, b0 = b & 0xffff, b1 = b >> 16;
	u32 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	u32 mid = (p00 >> 16) + (p01 & 0xffff) + (p10 & 0xffff);
	u32 lo = (mid << 16) | (p00 & 0xffff);
	u32 hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16);

	return ((u64)hi << 32) | lo;
}

u64 __muldi3(u64 a, u64 b)
{
	u32 al = a, ah = a >> 32, bl = b, bh = b >> 32;

	return mul32x32(al, bl) + ((u64)(al * bh + ah * bl) << 32);
}

/* Shift and subtract, a quotient bit a step; by zero gives all ones. */
static u32 udivmodsi4(u32 n, u32 d, u32 *rem)
{
	u32 q = 0, r = 0;
	int i;

	if (!d) {
		*rem = n;
		return ~0U;
	}
	for (i = 31; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1U << i;
		}
	}
	*rem = r;
	return q;
}

static u64 udivmoddi4(u64 n, u64 d, u64 *rem)
{
	u64 q = 0, r = 0;
	u32 q32, r32;
	int i;

	if (!(n >> 32) && !(d >> 32)) {
		q32 = udivmodsi4(n, d, &r32);
		*rem = r32;
		return d ? q32 : ~0ULL;
	}
	for (i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ULL << i;
		}
	}
	*rem = r;
	return q;
}

u32 __udivsi3(u32 n, u32 d)
{
	u32 r;

	return udivmodsi4(n, d, &r);
}

u32 __umodsi3(u32 n, u32 d)
{
	u32 r;

	udivmodsi4(n, d, &r);
	return r;
}

s32 __divsi3(s32 n, s32 d)
{
	u32 un = n < 0 ? -(u32)n : (u32)n;
	u32 ud = d < 0 ? -(u32)d : (u32)d;
	u32 r, q = udivmodsi4(un, ud, &r);

	return (n < 0) != (d < 0) ? (s32)-q : (s32)q;
}

u64 __udivdi3(u64 n, u64 d)
{
	u64 r;

	return udivmoddi4(n, d, &r);
}

u64 __umoddi3(u64 n, u64 d)
{
	u64 r;

	udivmoddi4(n, d, &r);
	return r;
}
