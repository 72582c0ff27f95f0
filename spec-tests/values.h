/* values.h - wasm values as the spec-test runner sees them: concrete values (call arguments and
 * the results a call returns) and expected-result patterns from wast2json's JSON, with the
 * comparison the spec's reference interpreter applies (bit-exact floats, nan:canonical and
 * nan:arithmetic, v128 compared lane by lane in the script's lane type, references by nullness
 * and extern identity).
 *
 * JSON forms (wabt 1.0.32): {"type":"i32","value":"4294967295"} - integers and floats as the
 * unsigned decimal of their bits; {"type":"f32","value":"nan:canonical"}; {"type":"v128",
 * "lane_type":"f32","value":["0","nan:arithmetic","1065353216","0"]}; {"type":"externref",
 * "value":"null"} or "value":"1" for (ref.extern 1); {"type":"funcref","value":"null"}; an entry
 * without "value" (the result types listed by assert_trap) matches any value of its type;
 * {"type":"either","values":[...]} matches when any alternative does. */
#ifndef K23_SPEC_VALUES_H
#define K23_SPEC_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k23vm.h"
#include "json.h"

/* A concrete value. Floats and v128 are kept as bits, never as C floating point, so that NaN
 * payloads and signs survive. */
typedef struct spec_val {
    k23vm_valkind kind;
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32;     /* bits */
        uint64_t f64;     /* bits */
        uint8_t v128[16]; /* little-endian lane order, lane 0 first */
        struct {
            bool is_null;
            /* externref: the host value N of (ref.extern N); funcref: an opaque identity
             * (whatever the embedding hands out), only compared for nullness. */
            uint64_t id;
        } ref;
    } u;
} spec_val;

/* The shape of a v128 in a script: which lanes it is written in. */
typedef enum spec_lane {
    SPEC_LANE_I8,
    SPEC_LANE_I16,
    SPEC_LANE_I32,
    SPEC_LANE_I64,
    SPEC_LANE_F32,
    SPEC_LANE_F64,
} spec_lane;

typedef enum spec_pat {
    SPEC_PAT_EXACT,          /* bit-exact (references: same nullness and extern identity) */
    SPEC_PAT_NAN_CANONICAL,  /* a NaN whose payload is exactly the canonical one, either sign */
    SPEC_PAT_NAN_ARITHMETIC, /* a NaN with the payload's top bit set, either sign */
    SPEC_PAT_ANY,            /* any value of the kind (a result type without a value) */
    SPEC_PAT_EITHER,         /* any of alts */
} spec_pat;

typedef struct spec_expect {
    spec_pat pat;
    spec_val val;             /* kind always set (except for EITHER); the bits for EXACT */
    spec_lane lane;           /* v128: the lane type */
    uint8_t lane_pat[16];     /* v128: a spec_pat (EXACT or a NaN pattern) per lane */
    struct spec_expect *alts; /* EITHER: owned array */
    size_t nalts;
} spec_expect;

/* Outcome of reading a value from JSON. UNSUPPORTED is a well-formed value of a type this
 * runner (and k23vm) does not have, e.g. a 3.0 reference type: the command can be skipped. */
typedef enum spec_parse_status {
    SPEC_PARSE_OK,
    SPEC_PARSE_UNSUPPORTED,
    SPEC_PARSE_ERROR,
} spec_parse_status;

int spec_lane_count(spec_lane lane);
/* "i32", "externref", ...; "?" for anything else. */
const char *spec_kind_name(k23vm_valkind kind);
const char *spec_lane_name(spec_lane lane);

/* An argument: exact values only. */
spec_parse_status spec_val_parse(const json_value *j, spec_val *out, char *err, size_t errlen);
/* An expected result. On OK the caller frees it with spec_expect_free. */
spec_parse_status spec_expect_parse(const json_value *j, spec_expect *out, char *err, size_t errlen);
void spec_expect_free(spec_expect *e);

/* Whether v satisfies e. */
bool spec_match(const spec_expect *e, const spec_val *v);

/* The float predicates behind the NaN patterns (spec 4.3.3: canonical and arithmetic NaNs). */
bool spec_f32_is_canonical_nan(uint32_t bits);
bool spec_f32_is_arithmetic_nan(uint32_t bits);
bool spec_f64_is_canonical_nan(uint64_t bits);
bool spec_f64_is_arithmetic_nan(uint64_t bits);

/* Text forms for failure reports, e.g. "i32:42", "f32:nan (0x7fc00000)", "v128:i32x4 1 2 3 4",
 * "externref:1", "funcref:null", "f64:nan:canonical". A v128 value is shown in the given lane
 * type (pass the expectation's, so that both sides of a mismatch read alike). Always
 * NUL-terminate buf. */
void spec_val_format(const spec_val *v, spec_lane lane, char *buf, size_t len);
void spec_expect_format(const spec_expect *e, char *buf, size_t len);

/* Whether an error or trap message agrees with the script's text: when either starts with the
 * other. The VM's message is the spec's wording, maybe followed by ": detail"; the script's text
 * may be abbreviated ("unknown import" for "unknown import: spectest.foo"). */
bool spec_messages_agree(const char *expected, const char *actual);

/* The unit checks of this file and json.c (selftest.c). Prints each failed check to stdout and
 * returns the number that failed; *checks receives the number run. */
int spec_self_test(int *checks);

#endif
