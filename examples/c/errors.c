/*
 * Feeds every entry point of facegate's C interface NULLs, lengths that do not match,
 * 0x0 and 100000x100000 frames, non-UTF-8 strings, garbage image bytes, a wrong model
 * digest, bad timestamps and calls on a face session that has already decided, and checks that each gets its documented status — and that no last-error message
 * repeats a code, phone number or ID number it was given.
 *
 *   ./errors tests/fixtures/images models
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facegate.h"
#include "read_file.h"

static int failures = 0;
static int checks = 0;

static void expect_status(FgStatus got, FgStatus want, const char *call, int line) {
    ++checks;
    if (got != want) {
        const char *m = "";
        fg_last_error(&m);
        fprintf(stderr, "errors.c:%d: %s -> %d, expected %d (%s)\n", line, call, (int)got,
                (int)want, m);
        ++failures;
    } else if (want != FG_STATUS_OK) {
        /* Every error status comes with a message. */
        const char *m = NULL;
        if (fg_last_error(&m) != FG_STATUS_OK || m == NULL || m[0] == '\0') {
            fprintf(stderr, "errors.c:%d: %s: no last-error message\n", line, call);
            ++failures;
        }
    }
}
#define EXPECT(call, want) expect_status((call), (want), #call, __LINE__)
#define ASSERT(cond)                                                                     \
    do {                                                                                 \
        ++checks;                                                                        \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "errors.c:%d: expected %s\n", __LINE__, #cond);              \
            ++failures;                                                                  \
        }                                                                                \
    } while (0)

/* The last error must not repeat a secret the failing call was given. */
static void last_error_lacks(const char *secret, int line) {
    const char *m = "";
    fg_last_error(&m);
    ++checks;
    if (strstr(m, secret) != NULL) {
        fprintf(stderr, "errors.c:%d: last error repeats a secret: %s\n", line, m);
        ++failures;
    }
}
#define LACKS(secret) last_error_lacks((secret), __LINE__)

static int deliver_ok(void *user, const char *recipient, const char *code) {
    (void)recipient;
    snprintf((char *)user, 16, "%s", code);
    return 0;
}
static int deliver_fails(void *user, const char *recipient, const char *code) {
    (void)user; (void)recipient; (void)code;
    return 1;
}
static int audit_fails(void *user, const char *line, size_t len) {
    (void)user; (void)line; (void)len;
    return -1;
}
static int holder_fails(void *user, const char *name, const char *number) {
    (void)user; (void)name; (void)number;
    return -1;
}

static const FgDate TODAY = {2027, 1, 15};
static const char NOT_UTF8[] = {'a', (char)0xff, (char)0xfe, 'b', 0};
static const unsigned char GARBAGE[] = "this is not an image, just bytes \x01\x02\x03\xff\xd8\xff";

int main(int argc, char **argv) {
    const char *images = argc > 1 ? argv[1] : "tests/fixtures/images";
    const char *models = argc > 2 ? argv[2] : "models";

    /* Version and last error. */
    EXPECT(fg_version(NULL, NULL), FG_STATUS_OK);
    ASSERT(fg_last_error(NULL) == FG_STATUS_NULL_POINTER); /* reading the message sets none */

    /* Every *_free accepts NULL. */
    EXPECT(fg_pipeline_free(NULL), FG_STATUS_OK);
    EXPECT(fg_capture_free(NULL), FG_STATUS_OK);
    EXPECT(fg_consent_free(NULL), FG_STATUS_OK);
    EXPECT(fg_challenge_free(NULL), FG_STATUS_OK);
    EXPECT(fg_policy_free(NULL), FG_STATUS_OK);
    EXPECT(fg_flow_free(NULL), FG_STATUS_OK);
    EXPECT(fg_oob_free(NULL), FG_STATUS_OK);
    EXPECT(fg_otp_free(NULL), FG_STATUS_OK);
    EXPECT(fg_session_free(NULL), FG_STATUS_OK);

    /* Model files: NULLs, a malformed digest, a wrong digest, a missing file, non-UTF-8. */
    FgPipeline *pipeline = NULL;
    EXPECT(fg_pipeline_new(NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_pipeline_new_from_files(NULL, &pipeline), FG_STATUS_NULL_POINTER);
    char pnet[1024], rnet[1024], onet[1024], resnet[1024];
    snprintf(pnet, sizeof pnet, "%s/mtcnn/pnet.onnx", models);
    snprintf(rnet, sizeof rnet, "%s/mtcnn/rnet.onnx", models);
    snprintf(onet, sizeof onet, "%s/mtcnn/onet.onnx", models);
    snprintf(resnet, sizeof resnet, "%s/dlib/dlib_face_recognition_resnet_model_v1.onnx", models);
    const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000";
    FgModelFiles files = {pnet, zeros, rnet, zeros, onet, zeros, resnet, zeros};
    EXPECT(fg_pipeline_new_from_files(&files, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_pipeline_new_from_files(&files, &pipeline), FG_STATUS_MODEL_DIGEST);
    ASSERT(pipeline == NULL);
    files.pnet_sha256 = "not-a-digest";
    EXPECT(fg_pipeline_new_from_files(&files, &pipeline), FG_STATUS_INVALID_ARGUMENT);
    files.pnet_sha256 = NULL;
    EXPECT(fg_pipeline_new_from_files(&files, &pipeline), FG_STATUS_NULL_POINTER);
    files.pnet_sha256 = zeros;
    files.pnet_path = "/nonexistent/pnet.onnx";
    EXPECT(fg_pipeline_new_from_files(&files, &pipeline), FG_STATUS_MODEL_UNUSABLE);
    files.pnet_path = NOT_UTF8;
    EXPECT(fg_pipeline_new_from_files(&files, &pipeline), FG_STATUS_INVALID_UTF8);

    /* The embedded models, for the calls that need a pipeline. */
    EXPECT(fg_pipeline_new(&pipeline), FG_STATUS_OK);
    size_t photo_len = 0;
    unsigned char *photo = read_file(images, "obama.jpg", &photo_len);

    /* The measuring door: NULLs, garbage, truncated and empty images. */
    FgComparison cmp;
    EXPECT(fg_eval_verify_images(NULL, photo, photo_len, photo, photo_len, &cmp), FG_STATUS_NULL_POINTER);
    EXPECT(fg_eval_verify_images(pipeline, NULL, 10, photo, photo_len, &cmp), FG_STATUS_NULL_POINTER);
    EXPECT(fg_eval_verify_images(pipeline, photo, photo_len, photo, photo_len, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_eval_verify_images(pipeline, GARBAGE, sizeof GARBAGE, photo, photo_len, &cmp), FG_STATUS_BAD_IMAGE);
    EXPECT(fg_eval_verify_images(pipeline, photo, 200, photo, photo_len, &cmp), FG_STATUS_BAD_IMAGE);
    EXPECT(fg_eval_verify_images(pipeline, photo, 0, photo, photo_len, &cmp), FG_STATUS_BAD_IMAGE);

    /* Captures: NULLs, garbage, 0x0, 100000x100000, wrong lengths and strides, bad enums. */
    FgCapture *capture = NULL;
    EXPECT(fg_capture_new(NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_capture_new(&capture), FG_STATUS_OK);
    EXPECT(fg_capture_push_image(NULL, photo, photo_len, 0.0), FG_STATUS_NULL_POINTER);
    EXPECT(fg_capture_push_image(capture, NULL, 5, 0.0), FG_STATUS_NULL_POINTER);
    EXPECT(fg_capture_push_image(capture, GARBAGE, sizeof GARBAGE, 0.0), FG_STATUS_BAD_IMAGE);
    unsigned char rgb[4 * 4 * 3];
    memset(rgb, 128, sizeof rgb);
    FgCameraImage cam = {FG_PIXEL_FORMAT_RGB, 4, 4, 1, {rgb, NULL, NULL}, {sizeof rgb, 0, 0}, {12, 0, 0}, 0, 0, 0};
    EXPECT(fg_capture_push_camera(NULL, &cam, 0.0), FG_STATUS_NULL_POINTER);
    EXPECT(fg_capture_push_camera(capture, NULL, 0.0), FG_STATUS_NULL_POINTER);
    FgCameraImage bad = cam;
    bad.width = 0;
    bad.height = 0;
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_BAD_DIMENSIONS);
    bad = cam;
    bad.width = 100000;
    bad.height = 100000;
    bad.strides[0] = 300000;
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_BAD_DIMENSIONS);
    bad = cam;
    bad.plane_lengths[0] = 10; /* shorter than 4 rows of 12 */
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_BAD_DIMENSIONS);
    bad = cam;
    bad.strides[0] = 5; /* shorter than a row */
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_BAD_DIMENSIONS);
    bad = cam;
    bad.plane_count = 0;
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_BAD_DIMENSIONS);
    bad = cam;
    bad.plane_count = 2; /* RGB has one plane */
    bad.planes[1] = rgb;
    bad.plane_lengths[1] = 8;
    bad.strides[1] = 4;
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_BAD_DIMENSIONS);
    bad = cam;
    bad.format = FG_PIXEL_FORMAT_NV21;
    bad.width = 3; /* 4:2:0 needs even sizes */
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_BAD_DIMENSIONS);
    bad = cam;
    bad.planes[0] = NULL;
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_NULL_POINTER);
    bad = cam;
    bad.format = 99;
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_INVALID_ARGUMENT);
    bad = cam;
    bad.rotation_degrees = 45;
    EXPECT(fg_capture_push_camera(capture, &bad, 0.0), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_capture_push_camera(capture, &cam, NAN), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_capture_push_camera(capture, &cam, 1.0), FG_STATUS_OK);
    EXPECT(fg_capture_push_camera(capture, &cam, 1.0), FG_STATUS_INVALID_ARGUMENT); /* not increasing */

    /* Consent and challenge. */
    FgConsent *consent = NULL;
    EXPECT(fg_consent_given_by_person(NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_consent_add_given_by_guardian(NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_consent_given_by_person(&consent), FG_STATUS_OK);
    FgChallenge *challenge = NULL;
    EXPECT(fg_challenge_random(2, 0, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_challenge_random(0, 0, &challenge), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_challenge_random(1000, 0, &challenge), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_challenge_random(2, 0, &challenge), FG_STATUS_OK);
    EXPECT(fg_challenge_step(NULL, 0, NULL, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_challenge_step(challenge, 2, NULL, NULL), FG_STATUS_OUT_OF_RANGE);
    FgDirection dir;
    EXPECT(fg_challenge_step(challenge, 1, &dir, NULL), FG_STATUS_OK);
    ASSERT(dir <= FG_DIRECTION_DOWN);

    /* The face verifier: NULLs, an empty capture, a bad date, a garbage reference photo. */
    FgOutcome out;
    FgCapture *empty = NULL;
    EXPECT(fg_capture_new(&empty), FG_STATUS_OK);
    EXPECT(fg_face_verify(NULL, consent, NULL, TODAY, photo, photo_len, capture, challenge, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_face_verify(pipeline, NULL, NULL, TODAY, photo, photo_len, capture, challenge, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_face_verify(pipeline, consent, NULL, TODAY, photo, photo_len, NULL, challenge, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_face_verify(pipeline, consent, NULL, TODAY, photo, photo_len, capture, NULL, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_face_verify(pipeline, consent, NULL, TODAY, photo, photo_len, capture, challenge, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_face_verify(pipeline, consent, NULL, TODAY, NULL, 100, capture, challenge, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_face_verify(pipeline, consent, NULL, TODAY, photo, photo_len, empty, challenge, &out), FG_STATUS_INVALID_ARGUMENT);
    const FgDate not_a_date = {2027, 13, 40};
    EXPECT(fg_face_verify(pipeline, consent, NULL, not_a_date, photo, photo_len, capture, challenge, &out), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_face_verify(pipeline, consent, &not_a_date, TODAY, photo, photo_len, capture, challenge, &out), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_face_verify(pipeline, consent, NULL, TODAY, GARBAGE, sizeof GARBAGE, capture, challenge, &out), FG_STATUS_BAD_IMAGE);
    /* A child without a guardian's consent: refused before a single frame is processed. */
    const FgDate child = {2020, 6, 1};
    EXPECT(fg_face_verify(pipeline, consent, &child, TODAY, photo, photo_len, capture, challenge, &out), FG_STATUS_OK);
    ASSERT(out.kind == FG_OUTCOME_KIND_REJECTED && strcmp(out.reason, "consent.guardian_required") == 0);
    ASSERT(out.reason_kind == FG_REASON_KIND_CONSENT && out.family == FG_FAMILY_FACE);
    EXPECT(fg_capture_free(empty), FG_STATUS_OK);
    EXPECT(fg_capture_free(capture), FG_STATUS_OK);
    EXPECT(fg_challenge_free(challenge), FG_STATUS_OK);

    /* The streaming session, starting: NULLs, bad dates and track values, garbage and
     * truncated reference photos; each error leaves *out_session NULL. */
    FgSession *session = NULL;
    FgProgress progress;
    EXPECT(fg_session_start(NULL, consent, NULL, TODAY, photo, photo_len, 0, 1, &session, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_start(pipeline, NULL, NULL, TODAY, photo, photo_len, 0, 1, &session, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, NULL, 100, 0, 1, &session, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, photo, photo_len, 0, 1, NULL, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, photo, photo_len, 0, 1, &session, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, GARBAGE, sizeof GARBAGE, 0, 1, &session, &out), FG_STATUS_BAD_IMAGE);
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, photo, 200, 0, 1, &session, &out), FG_STATUS_BAD_IMAGE);
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, photo, 0, 0, 1, &session, &out), FG_STATUS_BAD_IMAGE);
    EXPECT(fg_session_start(pipeline, consent, NULL, not_a_date, photo, photo_len, 0, 1, &session, &out), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_session_start(pipeline, consent, &not_a_date, TODAY, photo, photo_len, 0, 1, &session, &out), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, photo, photo_len, 0, 0, &session, &out), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, photo, photo_len, 0, 31, &session, &out), FG_STATUS_INVALID_ARGUMENT);
    ASSERT(session == NULL);
    /* A child without a guardian's consent: decided before any frame, no session. */
    EXPECT(fg_session_start(pipeline, consent, &child, TODAY, photo, photo_len, 0, 1, &session, &out), FG_STATUS_OK);
    ASSERT(session == NULL && out.kind == FG_OUTCOME_KIND_REJECTED);
    ASSERT(strcmp(out.reason, "consent.guardian_required") == 0);
    /* Sentences: only for reason codes facegate handed out; none for a consent reason. */
    const char *sentence = "unset";
    EXPECT(fg_reason_sentence(out.reason, &sentence), FG_STATUS_OK);
    ASSERT(sentence == NULL);
    EXPECT(fg_reason_sentence(out.reason, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_reason_sentence(NULL, &sentence), FG_STATUS_NULL_POINTER);
    char forged_reason[] = "liveness.no_face";
    EXPECT(fg_reason_sentence(forged_reason, &sentence), FG_STATUS_INVALID_ARGUMENT);

    /* The evaluation door: turns and mode, checked; the unknown word is not echoed. */
#define EVAL(turns, mode, s) \
    fg_session_start_for_evaluation(pipeline, consent, NULL, TODAY, photo, photo_len, 0, 1, (turns), (mode), (s), &out)
    EXPECT(EVAL(NULL, FG_CHALLENGE_MODE_FIXED, &session), FG_STATUS_NULL_POINTER);
    EXPECT(EVAL(NOT_UTF8, FG_CHALLENGE_MODE_FIXED, &session), FG_STATUS_INVALID_UTF8);
    EXPECT(EVAL("left,sideways", FG_CHALLENGE_MODE_FIXED, &session), FG_STATUS_INVALID_ARGUMENT);
    LACKS("sideways");
    EXPECT(EVAL("", FG_CHALLENGE_MODE_FIXED, &session), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(EVAL(",,", FG_CHALLENGE_MODE_FIXED, &session), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(EVAL("left,right,up,down,left,right,up,down,left", FG_CHALLENGE_MODE_FIXED, &session), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(EVAL("left", 2, &session), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(EVAL("left", 0xffffffffu, &session), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(EVAL("left", FG_CHALLENGE_MODE_FIXED, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_start_for_evaluation(NULL, consent, NULL, TODAY, photo, photo_len, 0, 1, "left", FG_CHALLENGE_MODE_FIXED, &session, &out), FG_STATUS_NULL_POINTER);
    ASSERT(session == NULL);
    EXPECT(EVAL("left", FG_CHALLENGE_MODE_FIXED, &session), FG_STATUS_OK);
    ASSERT(session != NULL);

    /* Pushing: NULLs, garbage, 0x0 and 100000x100000 frames, a size change, times that are
     * NaN, infinite, repeated or backwards; each refused frame leaves the session as it was. */
    unsigned char gray[64 * 64];
    memset(gray, 90, sizeof gray);
    FgCameraImage frame = {FG_PIXEL_FORMAT_GRAY, 64, 64, 1, {gray, NULL, NULL}, {sizeof gray, 0, 0}, {64, 0, 0}, 0, 0, 0};
    EXPECT(fg_session_push_camera(NULL, &frame, 0.0, &progress), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_push_camera(session, NULL, 0.0, &progress), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_push_camera(session, &frame, 0.0, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_push_image(NULL, photo, photo_len, 0.0, &progress), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_push_image(session, NULL, 5, 0.0, &progress), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_push_image(session, photo, photo_len, 0.0, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_push_image(session, GARBAGE, sizeof GARBAGE, 0.0, &progress), FG_STATUS_BAD_IMAGE);
    EXPECT(fg_session_push_image(session, photo, 200, 0.0, &progress), FG_STATUS_BAD_IMAGE);
    EXPECT(fg_session_push_image(session, photo, 0, 0.0, &progress), FG_STATUS_BAD_IMAGE);
    bad = frame;
    bad.width = 0;
    bad.height = 0;
    EXPECT(fg_session_push_camera(session, &bad, 0.0, &progress), FG_STATUS_BAD_DIMENSIONS);
    bad = frame;
    bad.width = 100000;
    bad.height = 100000;
    bad.strides[0] = 100000;
    EXPECT(fg_session_push_camera(session, &bad, 0.0, &progress), FG_STATUS_BAD_DIMENSIONS);
    bad = frame;
    bad.plane_lengths[0] = 100; /* shorter than 64 rows of 64 */
    EXPECT(fg_session_push_camera(session, &bad, 0.0, &progress), FG_STATUS_BAD_DIMENSIONS);
    bad = frame;
    bad.format = 99;
    EXPECT(fg_session_push_camera(session, &bad, 0.0, &progress), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_session_push_camera(session, &frame, NAN, &progress), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_session_push_camera(session, &frame, INFINITY, &progress), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_session_push_camera(session, &frame, 1.0, &progress), FG_STATUS_OK);
    ASSERT(progress.kind == FG_PROGRESS_KIND_CONTINUE && progress.sentence == NULL);
    EXPECT(fg_session_push_camera(session, &frame, 1.0, &progress), FG_STATUS_INVALID_ARGUMENT); /* repeated */
    EXPECT(fg_session_push_camera(session, &frame, 0.5, &progress), FG_STATUS_INVALID_ARGUMENT); /* backwards */
    EXPECT(fg_session_push_image(session, photo, photo_len, 1.1, &progress), FG_STATUS_INVALID_ARGUMENT); /* size change */
    EXPECT(fg_session_push_camera(session, &frame, 1.1, &progress), FG_STATUS_OK); /* still as it was */

    /* Finishing: NULLs; then the decided session takes no frame and no second finish. */
    EXPECT(fg_session_finish(NULL, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_finish(session, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_session_finish(session, &out), FG_STATUS_OK);
    ASSERT(out.family == FG_FAMILY_FACE && out.kind != FG_OUTCOME_KIND_ACCEPTED && out.reason != NULL);
    EXPECT(fg_reason_sentence(out.reason, &sentence), FG_STATUS_OK);
    ASSERT(sentence != NULL); /* a liveness reason has a sentence for the person */
    EXPECT(fg_session_finish(session, &out), FG_STATUS_SESSION_DECIDED);
    EXPECT(fg_session_push_camera(session, &frame, 2.0, &progress), FG_STATUS_SESSION_DECIDED);
    EXPECT(fg_session_push_image(session, photo, photo_len, 2.0, &progress), FG_STATUS_SESSION_DECIDED);
    EXPECT(fg_session_free(session), FG_STATUS_OK);

    /* A session outlives the pipeline handle: it holds its own share of the networks. */
    session = NULL;
    EXPECT(fg_session_start(pipeline, consent, NULL, TODAY, photo, photo_len, 1, 3, &session, &out), FG_STATUS_OK);
    ASSERT(session != NULL);
    EXPECT(fg_pipeline_free(pipeline), FG_STATUS_OK);
    pipeline = NULL;
    EXPECT(fg_session_push_image(session, photo, photo_len, 0.0, &progress), FG_STATUS_OK);
    ASSERT(progress.kind != FG_PROGRESS_KIND_DONE);
    EXPECT(fg_session_free(session), FG_STATUS_OK);
#undef EVAL

    EXPECT(fg_consent_free(consent), FG_STATUS_OK);
    EXPECT(fg_pipeline_free(pipeline), FG_STATUS_OK);
    free(photo);

    /* Policies: NULLs, non-UTF-8, face only, face first, unknown methods, empty. */
    FgPolicy *policy = NULL;
    const uint32_t good[] = {FG_METHOD_ONE_TIME_CODE, FG_METHOD_FACE};
    const uint32_t face_only[] = {FG_METHOD_FACE};
    const uint32_t face_first[] = {FG_METHOD_FACE, FG_METHOD_ID_CARD};
    const uint32_t unknown[] = {FG_METHOD_ONE_TIME_CODE, 7};
    EXPECT(fg_policy_new(NULL, good, 2, &policy), FG_STATUS_NULL_POINTER);
    EXPECT(fg_policy_new("p", NULL, 2, &policy), FG_STATUS_NULL_POINTER);
    EXPECT(fg_policy_new("p", good, 2, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_policy_new(NOT_UTF8, good, 2, &policy), FG_STATUS_INVALID_UTF8);
    EXPECT(fg_policy_new("p", face_only, 1, &policy), FG_STATUS_POLICY_REFUSED);
    EXPECT(fg_policy_new("p", face_first, 2, &policy), FG_STATUS_POLICY_REFUSED);
    EXPECT(fg_policy_new("p", good, 0, &policy), FG_STATUS_POLICY_REFUSED);
    EXPECT(fg_policy_new("", good, 2, &policy), FG_STATUS_POLICY_REFUSED);
    EXPECT(fg_policy_new("p", unknown, 2, &policy), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_policy_new("p", good, 1000000, &policy), FG_STATUS_INVALID_ARGUMENT);
    ASSERT(policy == NULL);
    EXPECT(fg_policy_new("p", good, 2, &policy), FG_STATUS_OK);
    const char *text = NULL;
    EXPECT(fg_policy_notice(NULL, 0, FG_LANGUAGE_EN, NULL, &text), FG_STATUS_NULL_POINTER);
    EXPECT(fg_policy_notice(policy, 0, FG_LANGUAGE_EN, NULL, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_policy_notice(policy, 2, FG_LANGUAGE_EN, NULL, &text), FG_STATUS_OUT_OF_RANGE);
    EXPECT(fg_policy_notice(policy, 0, 5, NULL, &text), FG_STATUS_INVALID_ARGUMENT);

    /* Flows: NULLs, unknown or unoffered methods, forged and foreign outcomes, failing audit. */
    FgFlow *flow = NULL;
    FgStep step;
    EXPECT(fg_flow_new(NULL, NULL, NULL, &flow), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_new(policy, NULL, NULL, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_new(policy, audit_fails, NULL, &flow), FG_STATUS_OK);
    /* Audit subjects: NULLs, a short key, non-UTF-8, an invalid ID number (not echoed). */
    static const char KEY_TEXT[] = "0123456789abcdef";
    const uint8_t *key = (const uint8_t *)KEY_TEXT;
    const size_t key_len = sizeof KEY_TEXT - 1;
    EXPECT(fg_flow_set_subject_pseudonym(NULL, key, key_len, "+8613800000002"), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_set_subject_pseudonym(flow, NULL, 16, "+8613800000002"), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_set_subject_pseudonym(flow, key, 8, "+8613800000002"), FG_STATUS_INVALID_ARGUMENT);
    LACKS("13800000002");
    EXPECT(fg_flow_set_subject_pseudonym(flow, key, key_len, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_set_subject_pseudonym(flow, key, key_len, NOT_UTF8), FG_STATUS_INVALID_UTF8);
    EXPECT(fg_flow_set_subject_pseudonym(flow, key, key_len, "+8613800000002"), FG_STATUS_OK);
    EXPECT(fg_flow_set_subject_id_number(NULL, "11010519491231002X", TODAY), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_set_subject_id_number(flow, NULL, TODAY), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_set_subject_id_number(flow, NOT_UTF8, TODAY), FG_STATUS_INVALID_UTF8);
    EXPECT(fg_flow_set_subject_id_number(flow, "110105194912310021", TODAY), FG_STATUS_INVALID_ARGUMENT);
    LACKS("110105194912310021");
    LACKS("19491231");
    EXPECT(fg_flow_set_subject_id_number(flow, "11010519491231002X", not_a_date), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_flow_set_subject_id_number(flow, "11010519491231002X", TODAY), FG_STATUS_OK);
    EXPECT(fg_flow_choose(NULL, FG_METHOD_FACE, 0), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_choose(flow, 9, 0), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_flow_choose(flow, FG_METHOD_ID_CARD, 0), FG_STATUS_FLOW_REFUSED);
    FgMethod current;
    EXPECT(fg_flow_current(NULL, &current), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_current(flow, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_current(flow, &current), FG_STATUS_OK);
    ASSERT(current == FG_METHOD_ONE_TIME_CODE);
    EXPECT(fg_flow_record(flow, NULL, 0, &step), FG_STATUS_NULL_POINTER);
    FgOutcome forged = {FG_FAMILY_ONE_TIME_CODE, FG_OUTCOME_KIND_REJECTED, "otp.mismatch", FG_REASON_KIND_MISMATCH};
    EXPECT(fg_flow_record(flow, &forged, 0, &step), FG_STATUS_INVALID_ARGUMENT);
    FgOutcome accepted = {FG_FAMILY_FACE, FG_OUTCOME_KIND_ACCEPTED, NULL, FG_REASON_KIND_NONE};
    EXPECT(fg_flow_record(flow, &accepted, 0, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_flow_record(flow, &accepted, 0, &step), FG_STATUS_FLOW_REFUSED); /* face is not current */
    FgOutcome weird = {(FgFamily)42, FG_OUTCOME_KIND_ACCEPTED, NULL, FG_REASON_KIND_NONE};
    EXPECT(fg_flow_record(flow, &weird, 0, &step), FG_STATUS_INVALID_ARGUMENT);
    weird.family = FG_FAMILY_ONE_TIME_CODE;
    weird.kind = (FgOutcomeKind)7;
    EXPECT(fg_flow_record(flow, &weird, 0, &step), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_flow_trigger(flow, 5, 0, &step), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_flow_trigger(NULL, FG_TRIGGER_NO_CAMERA, 0, &step), FG_STATUS_NULL_POINTER);
    accepted.family = FG_FAMILY_ONE_TIME_CODE;
    EXPECT(fg_flow_record(flow, &accepted, 0, &step), FG_STATUS_CALLBACK_FAILED); /* audit failed */
    ASSERT(step.kind == FG_STEP_KIND_VERIFIED);
    EXPECT(fg_flow_record(flow, &accepted, 0, &step), FG_STATUS_FLOW_REFUSED); /* finished */
    EXPECT(fg_flow_free(flow), FG_STATUS_OK);
    EXPECT(fg_policy_free(policy), FG_STATUS_OK);

    /* Out-of-band codes: NULLs, non-UTF-8, a failing channel, the send rate limit. */
    FgOob *oob = NULL;
    char code[16] = {0};
    EXPECT(fg_oob_new(NULL, NULL, &oob), FG_STATUS_NULL_POINTER);
    EXPECT(fg_oob_new(deliver_ok, code, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_oob_new(deliver_fails, NULL, &oob), FG_STATUS_OK);
    EXPECT(fg_oob_send(oob, "+8613800000001", 1000, NULL), FG_STATUS_CALLBACK_FAILED);
    LACKS("13800000001");
    EXPECT(fg_oob_free(oob), FG_STATUS_OK);
    EXPECT(fg_oob_new(deliver_ok, code, &oob), FG_STATUS_OK);
    EXPECT(fg_oob_send(NULL, "+8613800000001", 1000, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_oob_send(oob, NULL, 1000, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_oob_send(oob, NOT_UTF8, 1000, NULL), FG_STATUS_INVALID_UTF8);
    EXPECT(fg_oob_send(oob, "+8613800000001", 1000, NULL), FG_STATUS_OK);
    EXPECT(fg_oob_send(oob, "+8613800000001", 1001, NULL), FG_STATUS_RATE_LIMITED);
    LACKS("13800000001");
    LACKS(code);
    EXPECT(fg_oob_check(oob, "+8613800000001", NULL, 1002, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_oob_check(oob, "+8613800000001", NOT_UTF8, 1002, &out), FG_STATUS_INVALID_UTF8);
    EXPECT(fg_oob_check(oob, "+8613800000001", code, 1002, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_oob_check(NULL, "+8613800000001", code, 1002, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_oob_check(oob, "+8613800000001", "12", 1002, &out), FG_STATUS_OK);
    ASSERT(out.kind == FG_OUTCOME_KIND_REJECTED && strcmp(out.reason, "otp.malformed") == 0);
    EXPECT(fg_oob_check(oob, "+8613800000001", code, 1003, &out), FG_STATUS_OK);
    ASSERT(out.kind == FG_OUTCOME_KIND_ACCEPTED);
    EXPECT(fg_oob_free(oob), FG_STATUS_OK);

    /* Authenticators: NULLs, bad URIs, bad parameters, short secrets, small buffers. */
    FgOtp *otp = NULL;
    const char *secret = "12345678901234567890";
    FgOtpParams params = {.hotp = 1, .algorithm = FG_OTP_ALGORITHM_SHA1, .digits = 6, .counter = 0};
    EXPECT(fg_otp_import_uri(NULL, &otp), FG_STATUS_NULL_POINTER);
    EXPECT(fg_otp_import_uri("otpauth://totp/x", NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_otp_import_uri("https://example.com/", &otp), FG_STATUS_OTP_INVALID);
    EXPECT(fg_otp_import_uri("otpauth://totp/x?secret=GEZDGNBV", &otp), FG_STATUS_OTP_INVALID); /* 5 bytes */
    LACKS("GEZDGNBV");
    EXPECT(fg_otp_import_uri("otpauth://totp/x?secret=!!!!", &otp), FG_STATUS_OTP_INVALID);
    EXPECT(fg_otp_import_uri(NOT_UTF8, &otp), FG_STATUS_INVALID_UTF8);
    EXPECT(fg_otp_new(NULL, (const uint8_t *)secret, 20, "x", &otp), FG_STATUS_NULL_POINTER);
    EXPECT(fg_otp_new(&params, NULL, 20, "x", &otp), FG_STATUS_NULL_POINTER);
    EXPECT(fg_otp_new(&params, (const uint8_t *)secret, 4, "x", &otp), FG_STATUS_OTP_INVALID);
    EXPECT(fg_otp_new(&params, (const uint8_t *)secret, 20, "", &otp), FG_STATUS_OTP_INVALID);
    params.digits = 5;
    EXPECT(fg_otp_new(&params, (const uint8_t *)secret, 20, "x", &otp), FG_STATUS_OTP_INVALID);
    params.digits = 6;
    params.algorithm = 9;
    EXPECT(fg_otp_new(&params, (const uint8_t *)secret, 20, "x", &otp), FG_STATUS_INVALID_ARGUMENT);
    params.algorithm = FG_OTP_ALGORITHM_SHA1;
    params.hotp = 0;
    params.period = 0;
    EXPECT(fg_otp_new(&params, (const uint8_t *)secret, 20, "x", &otp), FG_STATUS_OTP_INVALID);
    params.hotp = 1;
    EXPECT(fg_otp_new(&params, (const uint8_t *)secret, 20, "Locker:staff", &otp), FG_STATUS_OK);
    /* RFC 4226's first HOTP values: 755224 (counter 0), 287082 (counter 1). */
    EXPECT(fg_otp_check(otp, "755224", 0, &out), FG_STATUS_OK);
    ASSERT(out.kind == FG_OUTCOME_KIND_ACCEPTED);
    EXPECT(fg_otp_check(otp, NULL, 0, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_otp_check(NULL, "287082", 0, &out), FG_STATUS_NULL_POINTER);
    size_t needed = 0;
    char small[8];
    EXPECT(fg_otp_export_uri(otp, small, sizeof small, &needed), FG_STATUS_BUFFER_TOO_SMALL);
    ASSERT(needed > sizeof small && small[0] == '\0');
    EXPECT(fg_otp_export_uri(otp, NULL, 0, &needed), FG_STATUS_BUFFER_TOO_SMALL);
    char *uri = malloc(needed);
    EXPECT(fg_otp_export_uri(otp, uri, needed, NULL), FG_STATUS_OK);
    ASSERT(strstr(uri, "counter=1") != NULL); /* the next counter travels with the URI */
    EXPECT(fg_otp_free(otp), FG_STATUS_OK);
    otp = NULL;
    EXPECT(fg_otp_import_uri(uri, &otp), FG_STATUS_OK);
    memset(uri, 0, needed);
    free(uri);
    EXPECT(fg_otp_check(otp, "287082", 0, &out), FG_STATUS_OK);
    ASSERT(out.kind == FG_OUTCOME_KIND_ACCEPTED);
    /* Saved state: NULLs; an HOTP state without a next counter; failures restored lock it. */
    FgOtpState state;
    EXPECT(fg_otp_state_export(NULL, &state), FG_STATUS_NULL_POINTER);
    EXPECT(fg_otp_state_export(otp, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_otp_state_export(otp, &state), FG_STATUS_OK);
    ASSERT(state.has_next_counter && state.next_counter == 2 && state.failures == 0 && !state.has_last_step);
    EXPECT(fg_otp_state_import(NULL, &state), FG_STATUS_NULL_POINTER);
    EXPECT(fg_otp_state_import(otp, NULL), FG_STATUS_NULL_POINTER);
    FgOtpState used_up = state;
    used_up.has_next_counter = 0;
    EXPECT(fg_otp_state_import(otp, &used_up), FG_STATUS_INVALID_ARGUMENT);
    FgOtpState locked = state;
    locked.failures = 100; /* the lock limit */
    EXPECT(fg_otp_state_import(otp, &locked), FG_STATUS_OK);
    EXPECT(fg_otp_check(otp, "359152", 0, &out), FG_STATUS_OK); /* RFC 4226, counter 2 */
    ASSERT(out.kind == FG_OUTCOME_KIND_REJECTED && strcmp(out.reason, "otp.locked") == 0);
    EXPECT(fg_otp_state_import(otp, &state), FG_STATUS_OK);
    EXPECT(fg_otp_check(otp, "359152", 0, &out), FG_STATUS_OK);
    ASSERT(out.kind == FG_OUTCOME_KIND_ACCEPTED);
    EXPECT(fg_otp_free(otp), FG_STATUS_OK);

    /* ID documents: NULLs, non-UTF-8, bad dates, malformed numbers, a failing registry. */
    FgIdCheck id;
    EXPECT(fg_id_number_check(NULL, TODAY, &id), FG_STATUS_NULL_POINTER);
    EXPECT(fg_id_number_check("11010519491231002X", TODAY, NULL), FG_STATUS_NULL_POINTER);
    EXPECT(fg_id_number_check(NOT_UTF8, TODAY, &id), FG_STATUS_INVALID_UTF8);
    EXPECT(fg_id_number_check("11010519491231002X", not_a_date, &id), FG_STATUS_INVALID_ARGUMENT);
    EXPECT(fg_id_number_check("123", TODAY, &id), FG_STATUS_OK);
    ASSERT(!id.valid && strcmp(id.reason, "idcard.length") == 0 && id.masked[0] == '\0');
    EXPECT(fg_id_number_check("110105194912310021", TODAY, &id), FG_STATUS_OK);
    ASSERT(!id.valid && strcmp(id.reason, "idcard.check_digit") == 0);
    EXPECT(fg_mrz_check(NULL, TODAY, &id), FG_STATUS_NULL_POINTER);
    EXPECT(fg_mrz_check("P<UTOERIKSSON", TODAY, &id), FG_STATUS_OK);
    ASSERT(!id.valid && strcmp(id.reason, "mrz.length") == 0);
    EXPECT(fg_id_number_verify("ZHANG SAN", "11010519491231002X", TODAY, NULL, NULL, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_id_number_verify(NULL, "11010519491231002X", TODAY, holder_fails, NULL, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_id_number_verify("ZHANG SAN", "11010519491231002X", TODAY, holder_fails, NULL, &out), FG_STATUS_CALLBACK_FAILED);
    LACKS("11010519491231002X");
    LACKS("19491231");
    EXPECT(fg_id_number_verify("ZHANG SAN", "110105194912310021", TODAY, holder_fails, NULL, &out), FG_STATUS_OK);
    ASSERT(out.kind == FG_OUTCOME_KIND_REJECTED && strcmp(out.reason, "idcard.check_digit") == 0);
    EXPECT(fg_mrz_verify(NULL, TODAY, holder_fails, NULL, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_mrz_verify("garbage", TODAY, NULL, NULL, &out), FG_STATUS_NULL_POINTER);
    EXPECT(fg_mrz_verify("garbage", TODAY, holder_fails, NULL, &out), FG_STATUS_OK);
    ASSERT(out.kind == FG_OUTCOME_KIND_REJECTED && strcmp(out.reason, "mrz.length") == 0);

    printf("%d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
