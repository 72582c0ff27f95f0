/* example.h - the two helpers every embedding example uses, kept out of the examples so that each
 * shows only the embedding itself: reading a module file, and reporting a k23vm_error. Static
 * functions in a header: each example stays one program built from one .c file. */
#ifndef K23VM_EXAMPLE_H
#define K23VM_EXAMPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "k23vm.h"

/* Reads a whole file into a malloc'd buffer; NULL (with the reason printed) on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    uint8_t *buf = NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) != NULL &&
        fread(buf, 1, (size_t)size, f) == (size_t)size) {
        *len = (size_t)size;
    } else {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* True when err is NULL (success); otherwise prints what failed and why, frees the error and
 * returns false. */
static bool ok(k23vm_error *err, const char *what)
{
    if (!err) return true;
    fprintf(stderr, "%s: %s\n", what, k23vm_error_message(err));
    k23vm_error_delete(err);
    return false;
}

#endif
