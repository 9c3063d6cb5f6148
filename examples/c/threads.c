/*
 * Four threads share one FgPipeline handle and verify the fixture photos at the same time.
 * Every distance must equal the single-thread result bit for bit.
 *
 *   ./threads tests/fixtures/images
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facegate.h"
#include "read_file.h"

enum { THREADS = 4, ROUNDS = 2, PAIRS = 2 };

struct image {
    unsigned char *bytes;
    size_t len;
};

static FgPipeline *pipeline;
static struct image obama, obama2, biden;
static float expected[PAIRS];

struct job {
    int id;
    int failures;
    float seen[ROUNDS][PAIRS];
};

static struct image read_image(const char *dir, const char *name) {
    struct image im;
    im.bytes = read_file(dir, name, &im.len);
    return im;
}

/* Pair 0: Obama and Obama (same person); pair 1: Obama and Biden. */
static int distance(int pair, float *d) {
    const struct image *b = pair == 0 ? &obama2 : &biden;
    FgComparison c;
    FgStatus s = fg_eval_verify_images(pipeline, obama.bytes, obama.len, b->bytes, b->len, &c);
    if (s != FG_STATUS_OK || !c.compared) {
        const char *m = "";
        fg_last_error(&m);
        fprintf(stderr, "pair %d: status %d, compared %u: %s\n", pair, (int)s, c.compared, m);
        return -1;
    }
    *d = c.distance;
    return 0;
}

static void *worker(void *arg) {
    struct job *job = arg;
    for (int r = 0; r < ROUNDS; r++)
        for (int p = 0; p < PAIRS; p++) {
            /* Threads start on different pairs so that different work overlaps. */
            int pair = (p + job->id) % PAIRS;
            float d;
            if (distance(pair, &d) != 0) {
                job->failures++;
                continue;
            }
            job->seen[r][pair] = d;
            if (memcmp(&d, &expected[pair], sizeof d) != 0) {
                fprintf(stderr, "thread %d round %d pair %d: %.9g differs from %.9g\n", job->id,
                        r, pair, (double)d, (double)expected[pair]);
                job->failures++;
            }
        }
    return NULL;
}

int main(int argc, char **argv) {
    const char *images = argc > 1 ? argv[1] : "tests/fixtures/images";
    obama = read_image(images, "obama.jpg");
    obama2 = read_image(images, "obama2.jpg");
    biden = read_image(images, "biden.jpg");
    if (fg_pipeline_new(&pipeline) != FG_STATUS_OK) {
        fprintf(stderr, "cannot load the pipeline\n");
        return 2;
    }
    for (int p = 0; p < PAIRS; p++)
        if (distance(p, &expected[p]) != 0) return 1;
    printf("single thread: Obama-Obama %.9g, Obama-Biden %.9g\n", (double)expected[0],
           (double)expected[1]);
    if (!(expected[0] < expected[1])) {
        fprintf(stderr, "the same person should be closer than two people\n");
        return 1;
    }

    pthread_t threads[THREADS];
    struct job jobs[THREADS];
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < THREADS; t++) {
        jobs[t].id = t;
        if (pthread_create(&threads[t], NULL, worker, &jobs[t]) != 0) return 2;
    }
    int failures = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        failures += jobs[t].failures;
    }
    fg_pipeline_free(pipeline);
    free(obama.bytes);
    free(obama2.bytes);
    free(biden.bytes);
    printf("%d threads x %d rounds x %d pairs on one pipeline: %d differences\n", THREADS, ROUNDS,
           PAIRS, failures);
    return failures == 0 ? 0 : 1;
}
