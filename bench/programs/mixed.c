/* mixed.c - benchmark kernel: a composite workload in the spirit of CoreMark (written here, not
 * derived from its sources). Every iteration does three kinds of work and chains their results
 * through a CRC-16:
 *   - list processing: a linked list of 400 nodes is searched, reversed, merge-sorted by value
 *     and sorted back by id (pointer chasing, unpredictable compares);
 *   - matrix work: 32 x 32 int16 matrices, multiply into int32, multiply by a vector, add a
 *     constant, threshold counts (small integer loops);
 *   - a state machine scanning a 2 KiB text of numbers (integers, decimals, exponents, hex,
 *     malformed tokens) character by character (a switch per character). */
#include "bench.h"

static volatile uint32_t mx_iterations = 5000;

/* ---- CRC-16 (CCITT, reflected 0x8408), bitwise ----------------------------------------------- */

static uint16_t crc16_byte(uint16_t crc, uint8_t b)
{
    crc ^= b;
    for (int i = 0; i < 8; i++)
        crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0x8408) : (uint16_t)(crc >> 1);
    return crc;
}

static uint16_t crc16_u32(uint16_t crc, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        crc = crc16_byte(crc, (uint8_t)(v >> (8 * i)));
    return crc;
}

/* ---- list ---------------------------------------------------------------------------------- */

#define NODES 400

typedef struct node {
    struct node *next;
    int16_t value;
    uint16_t id;
} node;

static node pool[NODES];

static node *list_build(uint32_t seed)
{
    node *head = 0;
    for (int i = NODES - 1; i >= 0; i--) {
        pool[i].id = (uint16_t)i;
        pool[i].value = (int16_t)(bench_rand(&seed) & 0x7FFF);
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static node *list_reverse(node *head)
{
    node *prev = 0;
    while (head) {
        node *next = head->next;
        head->next = prev;
        prev = head;
        head = next;
    }
    return prev;
}

/* Finds the first node whose value has the given low bits; returns its position or -1. */
static int32_t list_find(const node *head, int16_t low7)
{
    for (int32_t pos = 0; head; head = head->next, pos++)
        if ((head->value & 0x7F) == low7)
            return pos;
    return -1;
}

static int by_value(const node *a, const node *b)
{
    return a->value != b->value ? a->value < b->value : a->id <= b->id;
}

static int by_id(const node *a, const node *b)
{
    return a->id <= b->id;
}

/* Bottom-up merge sort of a singly linked list; stable; before(a, b) says a may precede b. */
static node *list_sort(node *head, int (*before)(const node *, const node *))
{
    for (uint32_t width = 1;; width *= 2) {
        node *p = head, *tail = 0;
        uint32_t merges = 0;
        head = 0;
        while (p) {
            merges++;
            node *q = p;
            uint32_t psize = 0, qsize = width;
            while (psize < width && q) {
                psize++;
                q = q->next;
            }
            while (psize > 0 || (qsize > 0 && q)) {
                node *e;
                if (psize == 0) {
                    e = q;
                    q = q->next;
                    qsize--;
                } else if (qsize == 0 || !q || before(p, q)) {
                    e = p;
                    p = p->next;
                    psize--;
                } else {
                    e = q;
                    q = q->next;
                    qsize--;
                }
                if (tail)
                    tail->next = e;
                else
                    head = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (merges <= 1)
            return head;
    }
}

static uint16_t list_work(node **headp, uint32_t iter, uint16_t crc)
{
    node *head = *headp;
    for (int k = 0; k < 8; k++)
        crc = crc16_u32(crc, (uint32_t)list_find(head, (int16_t)((iter * 8 + (uint32_t)k) & 0x7F)));
    head = list_reverse(head);
    head = list_sort(head, by_value);
    /* Fold the sorted order's first values and modify every node a little. */
    uint32_t i = 0;
    for (node *n = head; n; n = n->next, i++) {
        if (i < 4)
            crc = crc16_u32(crc, (uint32_t)(uint16_t)n->value);
        n->value = (int16_t)((n->value ^ (uint16_t)(iter + i)) & 0x7FFF);
    }
    head = list_sort(head, by_id);
    *headp = head;
    return crc16_u32(crc, head->value);
}

/* ---- matrix -------------------------------------------------------------------------------- */

#define MN 32

static int16_t ma[MN][MN], mb[MN][MN];
static int32_t mc[MN][MN], vec_out[MN];

static void matrix_init(uint32_t seed)
{
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            ma[i][j] = (int16_t)((bench_rand(&seed) & 0xFF) - 128);
            mb[i][j] = (int16_t)((bench_rand(&seed) & 0xFF) - 128);
        }
}

static uint16_t matrix_work(uint32_t iter, uint16_t crc)
{
    int16_t add = (int16_t)(iter & 0x0F);
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++)
            ma[i][j] = (int16_t)(((ma[i][j] + add) & 0x1FF) - 256);
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            int32_t s = 0;
            for (int k = 0; k < MN; k++)
                s += (int32_t)ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    for (int i = 0; i < MN; i++) {
        int32_t s = 0;
        for (int k = 0; k < MN; k++)
            s += (int32_t)ma[i][k] * mb[k][iter % MN];
        vec_out[i] = s;
    }
    /* Threshold counts and a sum of extracted bit fields. */
    uint32_t above = 0, fields = 0;
    int32_t limit = (int32_t)(iter % 4096) * 8;
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            int32_t v = mc[i][j];
            above += v > limit;
            fields += ((uint32_t)v >> 2) & 0xF;
        }
    for (int i = 0; i < MN; i++)
        fields += (uint32_t)vec_out[i] & 0x3F;
    crc = crc16_u32(crc, above);
    return crc16_u32(crc, fields);
}

/* ---- state machine ------------------------------------------------------------------------- */

#define TEXT 2048

static char text[TEXT];

enum state { S_START, S_SIGN, S_INT, S_ZERO, S_HEX, S_POINT, S_FRAC, S_EXP, S_EXP_SIGN, S_EXP_INT, S_BAD,
             S_COUNT };

static void text_init(uint32_t seed)
{
    static const char *const tokens[] = {"0", "42", "-17", "3.25", "+0.5", "6.02e23", "1e-9", "0x1F",
                                         "0xZZ", "12a", "-", ".", "7.", "88888", "-0.001", "5E+2"};
    uint32_t pos = 0;
    while (pos < TEXT - 1) {
        const char *t = tokens[bench_rand(&seed) & 15];
        while (*t && pos < TEXT - 1)
            text[pos++] = *t++;
        if (pos < TEXT - 1)
            text[pos++] = (bench_rand(&seed) & 3) ? ',' : ' ';
    }
    text[TEXT - 1] = 0;
}

static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Scans the whole text; counts the final state of every token and every transition. */
static uint16_t scan(uint16_t crc)
{
    uint32_t finals[S_COUNT] = {0}, transitions = 0;
    enum state s = S_START;
    for (const char *p = text;; p++) {
        char c = *p;
        if (c == ',' || c == ' ' || c == 0) {
            if (s != S_START)
                finals[s]++;
            s = S_START;
            if (c == 0)
                break;
            continue;
        }
        enum state next = S_BAD;
        switch (s) {
        case S_START:
            next = c == '0' ? S_ZERO : is_digit(c) ? S_INT : (c == '+' || c == '-') ? S_SIGN : c == '.' ? S_POINT : S_BAD;
            break;
        case S_SIGN:
            next = c == '0' ? S_ZERO : is_digit(c) ? S_INT : c == '.' ? S_POINT : S_BAD;
            break;
        case S_ZERO:
            next = (c == 'x' || c == 'X') ? S_HEX : is_digit(c) ? S_INT : c == '.' ? S_FRAC : (c == 'e' || c == 'E') ? S_EXP : S_BAD;
            break;
        case S_INT:
            next = is_digit(c) ? S_INT : c == '.' ? S_FRAC : (c == 'e' || c == 'E') ? S_EXP : S_BAD;
            break;
        case S_HEX:
            next = (is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) ? S_HEX : S_BAD;
            break;
        case S_POINT:
            next = is_digit(c) ? S_FRAC : S_BAD;
            break;
        case S_FRAC:
            next = is_digit(c) ? S_FRAC : (c == 'e' || c == 'E') ? S_EXP : S_BAD;
            break;
        case S_EXP:
            next = is_digit(c) ? S_EXP_INT : (c == '+' || c == '-') ? S_EXP_SIGN : S_BAD;
            break;
        case S_EXP_SIGN:
        case S_EXP_INT:
            next = is_digit(c) ? S_EXP_INT : S_BAD;
            break;
        default:
            next = S_BAD;
            break;
        }
        transitions += next != s;
        s = next;
    }
    for (int i = 0; i < S_COUNT; i++)
        crc = crc16_u32(crc, finals[i]);
    return crc16_u32(crc, transitions);
}

/* Changes a few characters so that the next scan sees other tokens. */
static void text_mutate(uint32_t iter)
{
    static const char repl[8] = {'1', '.', 'e', '-', 'x', '9', 'A', ','};
    for (uint32_t k = 0; k < 4; k++) {
        uint32_t at = (iter * 131 + k * 509) % (TEXT - 1);
        text[at] = repl[(iter + k) & 7];
    }
}

/* ---- driver -------------------------------------------------------------------------------- */

uint64_t bench_run(void)
{
    node *head = list_build(0x1357902F);
    matrix_init(0x2468ACE0);
    text_init(0x0F1E2D3C);
    uint64_t ck = 0;
    uint16_t crc = 0;
    uint32_t iterations = mx_iterations;
    for (uint32_t it = 0; it < iterations; it++) {
        crc = list_work(&head, it, crc);
        crc = matrix_work(it, crc);
        crc = scan(crc);
        text_mutate(it);
        ck = bench_mix(ck, crc);
    }
    return ck;
}
