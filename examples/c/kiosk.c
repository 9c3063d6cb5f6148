/*
 * A whole parcel-locker session through facegate's C interface: a policy offering a code,
 * an ID card and face; a code sent through the delivery callback and verified; an ID
 * number (the audit lines name the person by a pseudonym or the masked number); a face verification of the fixture photos (and their distance, through the
 * measuring door); the same face check streamed frame by frame, as a kiosk's camera delivers
 * them; a staff authenticator whose state survives a restart; every attempt printed as an audit line.
 *
 *   cargo build --release -p facegate-ffi
 *   cp target/release/libfacegate_ffi.a target/release/libfacegate.a
 *   cc -Iinclude examples/c/kiosk.c target/release/libfacegate.a -lpthread -ldl -lm -o kiosk
 *   ./kiosk tests/fixtures/images [../shared/data/liveness/genuine/selfie_d]
 *
 * With a recording (a folder of a person's video frames, NNNN.jpg, in which they turn left,
 * right, up, down), the streamed check replays it and is accepted; without one it streams a
 * still photo, which cannot turn its head, and is refused.
 */
#define _POSIX_C_SOURCE 200809L /* opendir, for the recording's frames */
#include <dirent.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facegate.h"
#include "read_file.h"

/* Any status other than OK ends the program with the thread's last-error message. */
#define CHECK(call)                                                                      \
    do {                                                                                 \
        FgStatus s_ = (call);                                                            \
        if (s_ != FG_STATUS_OK) {                                                        \
            const char *m_ = "";                                                         \
            fg_last_error(&m_);                                                          \
            fprintf(stderr, "%s:%d: %s -> status %d: %s\n", __FILE__, __LINE__, #call,    \
                    (int)s_, m_);                                                        \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

#define EXPECT(cond)                                                                     \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);          \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

static const uint64_t NOW = 1800000000; /* 2027-01-15 */
static const FgDate TODAY = {2027, 1, 15};

/* The audit sink: one JSON line per attempt (a real kiosk appends them to its log). */
static int print_audit(void *user, const char *line, size_t len) {
    int *count = user;
    ++*count;
    printf("audit: %.*s\n", (int)len, line);
    return 0;
}

/* The SMS gateway. Here the "phone" is a buffer the person reads the code from. */
struct phone {
    char code[16];
};
static int deliver_sms(void *user, const char *recipient, const char *code) {
    struct phone *p = user;
    (void)recipient;
    snprintf(p->code, sizeof p->code, "%s", code);
    return 0;
}

/* The parcel records: who may collect. */
static int is_holder(void *user, const char *name, const char *number) {
    (void)user;
    return strcmp(name, "ZHANG SAN") == 0 && strcmp(number, "11010519491231002X") == 0;
}

static const char *method_name(FgMethod m) {
    switch (m) {
    case FG_METHOD_ONE_TIME_CODE: return "one-time code";
    case FG_METHOD_ID_CARD: return "ID card";
    case FG_METHOD_FACE: return "face";
    }
    return "?";
}

/* The frame files of a recording folder (*.jpg), sorted by name: their time order. */
static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}
static size_t list_frames(const char *dir, char ***names) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", dir);
        exit(2);
    }
    size_t n = 0, cap = 0;
    *names = NULL;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".jpg") != 0) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            *names = realloc(*names, cap * sizeof **names);
            EXPECT(*names != NULL);
        }
        (*names)[n] = malloc(len + 1);
        EXPECT((*names)[n] != NULL);
        memcpy((*names)[n++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(*names, n, sizeof **names, by_name);
    return n;
}

/* Shows what a push asks of the kiosk; returns nonzero once the session has decided. */
static int show_progress(const FgProgress *p, double t) {
    if (p->kind == FG_PROGRESS_KIND_PROMPT)
        printf("  %5.2f s  prompt %zu: %s\n", t, p->step_index + 1, p->sentence);
    return p->kind == FG_PROGRESS_KIND_DONE;
}

/* Face, streamed: frames go into a session one by one as the camera delivers them; the
 * session prompts each movement as it goes and decides as soon as it can. A real kiosk
 * calls fg_session_start (a random challenge, drawn by the session) and
 * fg_session_push_camera with each raw camera frame. A recording can only follow a known
 * challenge, so replaying one takes the evaluation door, never used at a kiosk. */
static FgOutcome stream_face(const FgPipeline *faces, const FgConsent *consent,
                             const char *images, const char *recording) {
    FgSession *session = NULL;
    FgOutcome outcome;
    FgProgress progress;
    int done = 0;
    if (recording) {
        char **names = NULL;
        size_t count = list_frames(recording, &names);
        EXPECT(count >= 2);
        /* The reference: the recording's own first frame, as if it were the ID portrait. */
        size_t ref_len = 0;
        unsigned char *ref = read_file(recording, names[0], &ref_len);
        printf("face (streamed): %zu frames of %s, turns left, right, up, down\n",
               (count + 1) / 2, recording);
        CHECK(fg_session_start_for_evaluation(faces, consent, NULL, TODAY, ref, ref_len, 0, 3,
                                              "left,right,up,down", FG_CHALLENGE_MODE_FIXED,
                                              &session, &outcome));
        EXPECT(session != NULL); /* NULL: decided before any frame, see outcome */
        free(ref);
        /* Every second frame: 7.5 frames a second are enough for the challenge. */
        for (size_t i = 0, k = 0; i < count && !done; i += 2, k++) {
            size_t len = 0;
            unsigned char *jpg = read_file(recording, names[i], &len);
            double t = (double)k / 7.5;
            CHECK(fg_session_push_image(session, jpg, len, t, &progress));
            done = show_progress(&progress, t);
            free(jpg);
        }
        for (size_t i = 0; i < count; i++) free(names[i]);
        free(names);
    } else {
        /* A still photo held in front of the camera for 0.4 s, at 15 frames a
         * second: it gives the baseline, so the first movement is prompted, but it never
         * moves. (Kept short: .ci/run runs this under valgrind.) */
        size_t ref_len = 0, live_len = 0;
        unsigned char *ref = read_file(images, "obama.jpg", &ref_len);
        unsigned char *live = read_file(images, "obama2.jpg", &live_len);
        printf("face (streamed): a still photo, 6 frames\n");
        CHECK(fg_session_start(faces, consent, NULL, TODAY, ref, ref_len, 0, 3, &session,
                               &outcome));
        EXPECT(session != NULL);
        for (int k = 0; k < 6 && !done; k++) {
            double t = k / 15.0;
            CHECK(fg_session_push_image(session, live, live_len, t, &progress));
            done = show_progress(&progress, t);
        }
        free(ref);
        free(live);
    }
    if (done) {
        outcome = progress.outcome;
    } else {
        /* The camera stopped before the session decided: it decides now. */
        CHECK(fg_session_finish(session, &outcome));
    }
    /* Frees the frames and the reference template the session held. */
    CHECK(fg_session_free(session));
    const char *sentence = NULL;
    if (outcome.reason) CHECK(fg_reason_sentence(outcome.reason, &sentence));
    printf("face (streamed): %s (%s)%s%s\n",
           outcome.kind == FG_OUTCOME_KIND_ACCEPTED ? "accepted" : "not accepted",
           outcome.reason ? outcome.reason : "-", sentence ? ": " : "", sentence ? sentence : "");
    return outcome;
}

static void print_step(const char *what, const FgStep *s) {
    switch (s->kind) {
    case FG_STEP_KIND_VERIFIED:
        printf("%s: verified by %s\n", what, method_name(s->method));
        break;
    case FG_STEP_KIND_TRY_AGAIN:
        printf("%s: try %s again (%s)\n", what, method_name(s->method), s->reason);
        break;
    case FG_STEP_KIND_FALLBACK:
        printf("%s: %s -> %s (%s)\n", what, method_name(s->method), method_name(s->to), s->reason);
        break;
    case FG_STEP_KIND_EXHAUSTED:
        printf("%s: no method now (%s)\n", what, s->reason);
        break;
    }
}

int main(int argc, char **argv) {
#ifdef __GLIBC__
    /* A fixed mmap threshold for a small board: otherwise glibc raises it to the size of the
       first large block freed (loading the models and the first frame free tensors of up to
       4 MB), and every later buffer up to that size stays in the heap after it is freed
       (README, "From C", has the measured peaks with and without). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    const char *images = argc > 1 ? argv[1] : "tests/fixtures/images";
    const char *recording = argc > 2 ? argv[2] : NULL;
    const char *version = NULL;
    uint32_t abi = 0;
    CHECK(fg_version(&version, &abi));
    printf("facegate %s, C ABI %u\n", version, abi);
    EXPECT(abi == FG_ABI_VERSION);

    /* A policy offering a code (the default), an ID card and face. */
    const uint32_t offered[] = {FG_METHOD_ONE_TIME_CODE, FG_METHOD_ID_CARD, FG_METHOD_FACE};
    FgPolicy *policy = NULL;
    CHECK(fg_policy_new("locker-7", offered, 3, &policy));
    for (size_t i = 0; i < 3; i++) {
        FgMethod m;
        const char *en = NULL, *zh = NULL;
        CHECK(fg_policy_notice(policy, i, FG_LANGUAGE_EN, &m, &en));
        CHECK(fg_policy_notice(policy, i, FG_LANGUAGE_ZH, NULL, &zh));
        printf("[%s]\n  %s\n  %s\n", method_name(m), en, zh);
    }
    /* Face alone is refused, here as in Rust. */
    const uint32_t face_only[] = {FG_METHOD_FACE};
    FgPolicy *refused = NULL;
    EXPECT(fg_policy_new("locker-7", face_only, 1, &refused) == FG_STATUS_POLICY_REFUSED);
    EXPECT(refused == NULL);

    int audited = 0;

    /* Session 1: a code sent to the recipient's phone; a typo, then the right code. */
    FgFlow *flow = NULL;
    CHECK(fg_flow_new(policy, print_audit, &audited, &flow));
    /* The audit lines name the recipient by a keyed pseudonym of the phone number, never
     * the number itself (one secret key per deployment; this one is a demo). */
    static const char AUDIT_KEY[] = "locker fleet 7: demo audit key";
    CHECK(fg_flow_set_subject_pseudonym(flow, (const uint8_t *)AUDIT_KEY, strlen(AUDIT_KEY),
                                        "+8613800000000"));
    struct phone phone = {{0}};
    FgOob *oob = NULL;
    CHECK(fg_oob_new(deliver_sms, &phone, &oob));
    uint64_t expires = 0;
    CHECK(fg_oob_send(oob, "+8613800000000", NOW, &expires));
    EXPECT(strlen(phone.code) == 6 && expires == NOW + 300);
    FgOutcome outcome;
    FgStep step;
    const char *typo = strcmp(phone.code, "000000") == 0 ? "111111" : "000000";
    CHECK(fg_oob_check(oob, "+8613800000000", typo, NOW + 20, &outcome));
    EXPECT(outcome.kind == FG_OUTCOME_KIND_REJECTED && strcmp(outcome.reason, "otp.mismatch") == 0);
    CHECK(fg_flow_record(flow, &outcome, NOW + 20, &step));
    print_step("code (typo)", &step);
    EXPECT(step.kind == FG_STEP_KIND_TRY_AGAIN);
    CHECK(fg_oob_check(oob, "+8613800000000", phone.code, NOW + 30, &outcome));
    EXPECT(outcome.kind == FG_OUTCOME_KIND_ACCEPTED && outcome.reason == NULL);
    CHECK(fg_flow_record(flow, &outcome, NOW + 30, &step));
    print_step("code", &step);
    EXPECT(step.kind == FG_STEP_KIND_VERIFIED && step.method == FG_METHOD_ONE_TIME_CODE);
    memset(phone.code, 0, sizeof phone.code);
    CHECK(fg_oob_free(oob));
    CHECK(fg_flow_free(flow));

    /* Session 2: an ID card. Its form first (masked for the screen), then the holder. */
    CHECK(fg_flow_new(policy, print_audit, &audited, &flow));
    CHECK(fg_flow_choose(flow, FG_METHOD_ID_CARD, NOW));
    FgIdCheck id;
    CHECK(fg_id_number_check("11010519491231002X", TODAY, &id));
    EXPECT(id.valid && strcmp(id.masked, "110105********002X") == 0 && !id.under_14);
    printf("ID card %s\n", id.masked);
    CHECK(fg_id_number_check("110105194912310021", TODAY, &id));
    EXPECT(!id.valid && strcmp(id.reason, "idcard.check_digit") == 0);
    CHECK(fg_id_number_verify("ZHANG SAN", "11010519491231002X", TODAY, is_holder, NULL, &outcome));
    /* The audit line names the holder by the masked number (no birth date). */
    CHECK(fg_flow_set_subject_id_number(flow, "11010519491231002X", TODAY));
    CHECK(fg_flow_record(flow, &outcome, NOW, &step));
    print_step("ID card", &step);
    EXPECT(step.kind == FG_STEP_KIND_VERIFIED && step.method == FG_METHOD_ID_CARD);
    CHECK(fg_flow_free(flow));

    /* Session 3: the person chooses face and consents. The reference is the ID document's
     * portrait (obama.jpg); the "live" capture is one still photo of the same man
     * (obama2.jpg): the same person, but a still photo cannot perform the challenge, so
     * liveness does not accept it and the face is never compared. */
    FgPipeline *faces = NULL;
    CHECK(fg_pipeline_new(&faces));
    CHECK(fg_flow_new(policy, print_audit, &audited, &flow));
    CHECK(fg_flow_choose(flow, FG_METHOD_FACE, NOW));
    FgConsent *consent = NULL;
    CHECK(fg_consent_given_by_person(&consent));
    FgChallenge *challenge = NULL;
    CHECK(fg_challenge_random(2, 0, &challenge));
    const char *prompt = NULL;
    for (size_t i = 0; fg_challenge_step(challenge, i, NULL, &prompt) == FG_STATUS_OK; i++)
        printf("prompt %zu: %s\n", i + 1, prompt);
    size_t ref_len = 0, live_len = 0;
    unsigned char *ref = read_file(images, "obama.jpg", &ref_len);
    unsigned char *live = read_file(images, "obama2.jpg", &live_len);
    FgCapture *capture = NULL;
    CHECK(fg_capture_new(&capture));
    CHECK(fg_capture_push_image(capture, live, live_len, 0.0));
    /* No ID document was read in this session, so no birth date: the person's own consent
     * is taken at face value (the kiosk asked "are you 14 or older?"). */
    CHECK(fg_face_verify(faces, consent, NULL, TODAY, ref, ref_len, capture, challenge, &outcome));
    printf("face: %s (%s)\n", outcome.kind == FG_OUTCOME_KIND_ACCEPTED ? "accepted" : "not accepted",
           outcome.reason ? outcome.reason : "-");
    EXPECT(outcome.family == FG_FAMILY_FACE && outcome.kind != FG_OUTCOME_KIND_ACCEPTED);
    CHECK(fg_flow_record(flow, &outcome, NOW, &step));
    print_step("face", &step);
    EXPECT(step.kind == FG_STEP_KIND_FALLBACK || step.kind == FG_STEP_KIND_TRY_AGAIN);
    /* The same two photos through the measuring door (no consent, no liveness: what
     * `facegate verify` does for an operator): the distance the kiosk decision never shows. */
    FgComparison cmp;
    CHECK(fg_eval_verify_images(faces, ref, ref_len, live, live_len, &cmp));
    EXPECT(cmp.compared && cmp.distance >= 0.0f && cmp.distance < 0.6f);
    printf("photos compared: distance %.3f, threshold %.2f, %s\n", (double)cmp.distance,
           (double)cmp.threshold, cmp.same_person ? "same person" : cmp.reason);
    CHECK(fg_capture_free(capture));
    CHECK(fg_challenge_free(challenge));
    CHECK(fg_flow_free(flow));
    free(ref);
    free(live);

    /* Session 4: face again, streamed (see stream_face), recorded in the flow like any
     * other attempt. */
    CHECK(fg_flow_new(policy, print_audit, &audited, &flow));
    CHECK(fg_flow_choose(flow, FG_METHOD_FACE, NOW));
    outcome = stream_face(faces, consent, images, recording);
    EXPECT(outcome.family == FG_FAMILY_FACE);
    EXPECT(recording ? outcome.kind == FG_OUTCOME_KIND_ACCEPTED
                     : outcome.kind != FG_OUTCOME_KIND_ACCEPTED);
    CHECK(fg_flow_record(flow, &outcome, NOW, &step));
    print_step("face (streamed)", &step);
    CHECK(fg_flow_free(flow));
    CHECK(fg_consent_free(consent));
    CHECK(fg_pipeline_free(faces));

    /* A staff member's authenticator (RFC 6238's SHA-1 test vector), exported and
     * re-imported as an otpauth:// URI. */
    const FgOtpParams params = {.hotp = 0, .algorithm = FG_OTP_ALGORITHM_SHA1, .digits = 8, .period = 30};
    FgOtp *staff = NULL;
    CHECK(fg_otp_new(&params, (const uint8_t *)"12345678901234567890", 20, "Locker:staff-7", &staff));
    char uri[256];
    CHECK(fg_otp_export_uri(staff, uri, sizeof uri, NULL));
    EXPECT(strncmp(uri, "otpauth://totp/", 15) == 0);
    CHECK(fg_otp_free(staff));
    staff = NULL;
    CHECK(fg_otp_import_uri(uri, &staff));
    CHECK(fg_otp_check(staff, "94287082", 59, &outcome));
    EXPECT(outcome.kind == FG_OUTCOME_KIND_ACCEPTED);
    /* The kiosk saves the authenticator's state (no secret: the last accepted time step and
     * the failure counters) and restarts: back from its URI and that state, it still
     * refuses the code just used. */
    FgOtpState saved;
    CHECK(fg_otp_state_export(staff, &saved));
    CHECK(fg_otp_free(staff));
    staff = NULL;
    CHECK(fg_otp_import_uri(uri, &staff));
    memset(uri, 0, sizeof uri);
    CHECK(fg_otp_state_import(staff, &saved));
    CHECK(fg_otp_check(staff, "94287082", 59, &outcome));
    EXPECT(outcome.kind == FG_OUTCOME_KIND_REJECTED && strcmp(outcome.reason, "otp.replayed") == 0);
    printf("staff authenticator: accepted once, replay refused after a restart (%s)\n", outcome.reason);
    CHECK(fg_otp_free(staff));

    CHECK(fg_policy_free(policy));
    EXPECT(audited == 5);
    printf("kiosk session done: %d audit lines\n", audited);
    return 0;
}
