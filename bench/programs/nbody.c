/* nbody.c - benchmark kernel: gravitational n-body simulation of 40 bodies (all pairs, softened
 * potential), symplectic Euler steps; f64 arithmetic with sqrt and division. The bodies start from
 * generated positions and velocities; the checksum holds the final energy and positions. */
#include "bench.h"

static volatile uint32_t nb_steps = 40000;

#define NB 40

typedef struct body {
    double x, y, z, vx, vy, vz, m;
} body;

static body bodies[NB];

static double frand(uint32_t *seed) /* in [-1, 1) */
{
    return (double)(bench_rand(seed) >> 8) / 8388608.0 - 1.0;
}

static void init(void)
{
    uint32_t seed = 0xC0FFEE11;
    for (int i = 0; i < NB; i++) {
        body *b = &bodies[i];
        b->x = 10.0 * frand(&seed);
        b->y = 10.0 * frand(&seed);
        b->z = 2.0 * frand(&seed);
        b->vx = 0.05 * frand(&seed);
        b->vy = 0.05 * frand(&seed);
        b->vz = 0.01 * frand(&seed);
        b->m = 0.5 + 0.25 * frand(&seed);
    }
    /* No net momentum: the system stays where it is. */
    double px = 0, py = 0, pz = 0, mt = 0;
    for (int i = 0; i < NB; i++) {
        px += bodies[i].m * bodies[i].vx;
        py += bodies[i].m * bodies[i].vy;
        pz += bodies[i].m * bodies[i].vz;
        mt += bodies[i].m;
    }
    for (int i = 0; i < NB; i++) {
        bodies[i].vx -= px / mt;
        bodies[i].vy -= py / mt;
        bodies[i].vz -= pz / mt;
    }
}

#define SOFT2 0.01 /* softening length squared: close encounters stay bounded */

static void step(double dt)
{
    for (int i = 0; i < NB; i++) {
        body *a = &bodies[i];
        for (int j = i + 1; j < NB; j++) {
            body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            double d2 = dx * dx + dy * dy + dz * dz + SOFT2;
            double d = __builtin_sqrt(d2);
            double mag = dt / (d2 * d);
            double ma = a->m * mag, mb = b->m * mag;
            a->vx -= dx * mb;
            a->vy -= dy * mb;
            a->vz -= dz * mb;
            b->vx += dx * ma;
            b->vy += dy * ma;
            b->vz += dz * ma;
        }
    }
    for (int i = 0; i < NB; i++) {
        body *b = &bodies[i];
        b->x += dt * b->vx;
        b->y += dt * b->vy;
        b->z += dt * b->vz;
    }
}

static double energy(void)
{
    double e = 0.0;
    for (int i = 0; i < NB; i++) {
        const body *a = &bodies[i];
        e += 0.5 * a->m * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
        for (int j = i + 1; j < NB; j++) {
            const body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            e -= a->m * b->m / __builtin_sqrt(dx * dx + dy * dy + dz * dz + SOFT2);
        }
    }
    return e;
}

uint64_t bench_run(void)
{
    init();
    uint64_t ck = bench_mix(0, bench_f64_bits(energy()));
    uint32_t steps = nb_steps;
    for (uint32_t s = 0; s < steps; s++)
        step(0.001);
    ck = bench_mix(ck, bench_f64_bits(energy()));
    for (int i = 0; i < NB; i++)
        ck = bench_mix(ck, bench_f64_bits(bodies[i].x + bodies[i].y + bodies[i].z));
    return ck;
}
