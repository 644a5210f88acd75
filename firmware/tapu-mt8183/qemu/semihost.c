// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* Copyright 2026 The TAPU authors */

#include "semihost.h"

enum {
	SYS_EXIT = 1,
	SYS_READ = 3,
	SYS_WRITE = 4,
	SYS_OPEN = 5,
	SYS_CLOSE = 6,
	SYS_ARGC = 1000,
	SYS_ARGV_SZ = 1001,
	SYS_ARGV = 1002,
};

/* a2: call and result, a3: first argument and errno. */
static long simcall(long nr, long a, long b, long c)
{
	register long a2 __asm__("a2") = nr;
	register long a3 __asm__("a3") = a;
	register long a4 __asm__("a4") = b;
	register long a5 __asm__("a5") = c;

	__asm__ volatile("simcall"
			 : "+r"(a2), "+r"(a3)
			 : "r"(a4), "r"(a5)
			 : "memory");
	return a2;
}

long semihost_open(const char *path)
{
	return simcall(SYS_OPEN, (long)path, 0 /* O_RDONLY */, 0);
}

long semihost_read(long fd, void *buf, unsigned long n)
{
	return simcall(SYS_READ, fd, (long)buf, n);
}

long semihost_write(long fd, const void *buf, unsigned long n)
{
	return simcall(SYS_WRITE, fd, (long)buf, n);
}

long semihost_close(long fd)
{
	return simcall(SYS_CLOSE, fd, 0, 0);
}

int semihost_argc(void)
{
	return simcall(SYS_ARGC, 0, 0, 0);
}

/* The arguments, as an argv array followed by the strings, into @buf. */
long semihost_argv(char *buf, unsigned long size, char ***argv)
{
	if ((unsigned long)simcall(SYS_ARGV_SZ, 0, 0, 0) > size)
		return -1;
	simcall(SYS_ARGV, (long)buf, 0, 0);
	*argv = (char **)buf;
	return 0;
}

void semihost_exit(int code)
{
	simcall(SYS_EXIT, code, 0, 0);
	for (;;)
		;
}
