/* test_util.c - unit tests for src/util.c: arenas and growable arrays on the platform allocator,
 * including sizes that would wrap when rounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util.h"

static void arena_sizes(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, k23vm_platform_default());
    uint8_t *p = arena_alloc(&a, 1), *q = arena_alloc(&a, 17);
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_int_equal((uintptr_t)q % 16, 0);
    assert_true(q >= p + 16); /* rounded to 16 */
    /* A block larger than a chunk gets its own. */
    uint8_t *big = arena_zalloc(&a, 1 << 20);
    assert_non_null(big);
    assert_int_equal(big[(1 << 20) - 1], 0);
    /* Sizes that wrap when rounded up, or cannot exist, are refused rather than undersized. */
    assert_null(arena_alloc(&a, SIZE_MAX));
    assert_null(arena_alloc(&a, SIZE_MAX - 3));
    assert_null(arena_alloc(&a, SIZE_MAX / 2 + 1));
    arena_free(&a);
    /* Usable again after arena_free. */
    assert_non_null(arena_alloc(&a, 8));
    arena_free(&a);
}

static void vec_growth(void **state)
{
    (void)state;
    const k23vm_platform *p = k23vm_platform_default();
    VEC(uint32_t) v = {0};
    for (uint32_t i = 0; i < 10000; i++) assert_true(VEC_PUSH(p, &v, i));
    for (uint32_t i = 0; i < 10000; i++) assert_int_equal(v.data[i], i);
    assert_false(VEC_RESERVE(p, &v, SIZE_MAX / 2)); /* would overflow the byte count */
    assert_int_equal(v.len, 10000);
    VEC_FREE(p, &v);
    assert_null(v.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_sizes),
        cmocka_unit_test(vec_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
