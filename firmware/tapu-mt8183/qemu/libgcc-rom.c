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

/*
 * Shift and subtract, a quotient bit a step, from the highest bit @n can
 * have; by zero gives all ones. The one division of this file.
 */
static u64 udivmod(u64 n, u64 d, u64 *rem, int bits)
{
	u64 q = 0, r = 0;
	int i;

	if (!d) {
		*rem = n;
		return ~0ULL;
	}
	for (i = bits - 1; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ULL << i;
		}
	}
	*rem = r;
	return q;
}

/* The bits a dividend needs: a 64-bit one that fits 32 takes half the steps. */
static int bits(u64 n)
{
	return n >> 32 ? 64 : 32;
}

u32 __udivsi3(u32 n, u32 d)
{
	u64 r;

	return udivmod(n, d, &r, 32);
}

u32 __umodsi3(u32 n, u32 d)
{
	u64 r;

	udivmod(n, d, &r, 32);
	return r;
}

s32 __divsi3(s32 n, s32 d)
{
	u32 un = n < 0 ? -(u32)n : (u32)n;
	u32 ud = d < 0 ? -(u32)d : (u32)d;
	u64 r;
	u32 q = udivmod(un, ud, &r, 32);

	return (n < 0) != (d < 0) ? (s32)-q : (s32)q;
}

u64 __udivdi3(u64 n, u64 d)
{
	u64 r;

	return udivmod(n, d, &r, bits(n));
}

u64 __umoddi3(u64 n, u64 d)
{
	u64 r;

	udivmod(n, d, &r, bits(n));
	return r;
}
