/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Copyright 2026 The TAPU authors */

/* QEMU's Xtensa semihosting (the simcall ABI of Tensilica's ISS). */

#ifndef __TAPU_FW_SEMIHOST_H
#define __TAPU_FW_SEMIHOST_H

long semihost_open(const char *path);
long semihost_read(long fd, void *buf, unsigned long n);
long semihost_write(long fd, const void *buf, unsigned long n);
long semihost_close(long fd);
int semihost_argc(void);
long semihost_argv(char *buf, unsigned long size, char ***argv);
void __attribute__((__noreturn__)) semihost_exit(int code);

#endif /* __TAPU_FW_SEMIHOST_H */
