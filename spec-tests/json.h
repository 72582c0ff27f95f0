/* json.h - a small JSON reader for the spec-test runner (spec-tests/), sized for the output of
 * wabt's wast2json: one document parsed into an immutable tree held in a single arena.
 *
 * Hosted code (libc allowed). Strings are decoded (escapes resolved, \uXXXX turned into UTF-8) and
 * carry an explicit length because export names in the testsuite contain NUL bytes; each string is
 * also NUL-terminated for convenience. The parser never crashes on bad input: it bounds nesting
 * depth, checks every allocation and reports the first error with its line. */
#ifndef K23_SPEC_JSON_H
#define K23_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    union {
        bool boolean;
        double number;
        struct {
            const char *ptr; /* NUL-terminated, but may contain NUL: use len */
            size_t len;
        } string;
        struct {
            const json_value *items;
            size_t count;
        } array;
        struct {
            const json_member *members;
            size_t count;
        } object;
    } u;
};

struct json_member {
    const char *key; /* NUL-terminated */
    size_t key_len;
    json_value value;
};

typedef struct json_doc json_doc;

/* Parses text[0..len). On success returns the document; on failure returns NULL and writes a
 * message ("line 3: expected ':'") to err. */
json_doc *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(json_doc *doc);
const json_value *json_root(const json_doc *doc);

/* Member of an object by key (first match), or NULL when v is not an object or has no such key. */
const json_value *json_get(const json_value *v, const char *key);
/* The string of v, or NULL when v is NULL or not a string. */
const char *json_string(const json_value *v);
/* v's string equals s (which must not contain NUL). */
bool json_string_is(const json_value *v, const char *s);
/* An array's length, 0 when v is not an array. */
size_t json_array_len(const json_value *v);
/* Element i of an array, or NULL when out of range or not an array. */
const json_value *json_array_at(const json_value *v, size_t i);
/* A number that is a non-negative integer up to 2^53, as *out; false otherwise. */
bool json_uint(const json_value *v, unsigned long long *out);

#endif
