/*
 * Shared by the fuzz targets (libFuzzer under clang, or replay.c under the
 * project compiler): the entry point, a private scratch directory, and a
 * way to report a broken property as a crash.
 */
#ifndef BG_FUZZ_H
#define BG_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Each target defines this; a violated property aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* This process's private directory (0700 under $TMPDIR), removed at exit. */
const char *fz_dir(void);
/* fz_dir()/name into out (PATH_MAX bytes). */
void fz_path(const char *name, char *out);
/* Replaces fz_dir()/name with data, mode applied; aborts on I/O failure. */
void fz_write(const char *name, const void *data, size_t len, mode_t mode);
/* A malloc()ed NUL-terminated copy of data (which may hold NULs). */
char *fz_strndup(const uint8_t *data, size_t size);
/*
 * Writes the targets' fixed Ed25519 key pair, standing for the approval
 * service's, into fz_dir() (once) and names its files (PATH_MAX bytes each).
 */
void fz_service_key(char *priv_path, char *pub_path);
/* Whether the JSON value v is the string s exactly (no byte lost after a NUL). */
struct json_object;
bool fz_json_string_is(struct json_object *v, const char *s);
/* Reports a broken property or a failed setup step and aborts. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
