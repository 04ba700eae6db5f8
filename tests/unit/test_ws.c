/*
 * WebSocket endpoint tests: the RFC 6455 accept-key vector, a client and a
 * server endpoint wired to each other in memory (messages of every length
 * class both ways, masking, input fed byte by byte, fragmented messages
 * with a ping in between), and the failure paths: oversized messages
 * (1009), invalid frames (1002), invalid UTF-8 (1007), the close
 * handshake, and a transport that refuses bytes.
 */
#include "net/ws.h"
#include "unit.h"
#include "util/buf.h"
#include "util/errors.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct end {
    struct ws *ws;
    struct buf out;     /* bytes this end sent, not yet fed to the peer */
    bool echo;          /* answer every message with itself */
    bool refuse;        /* the transport refuses bytes */
    int messages;
    enum ws_opcode last_op;
    struct buf last;    /* the last message */
    int closed;         /* on_close calls */
    int close_code;
    char close_reason[128];
};

static int end_send(void *arg, const void *data, size_t len)
{
    struct end *e = arg;
    if (e->refuse)
        return -EPIPE;
    return buf_append(&e->out, data, len) == 0 ? 0 : -ENOMEM;
}

static void end_message(void *arg, enum ws_opcode op, const void *data,
                        size_t len)
{
    struct end *e = arg;
    e->messages++;
    e->last_op = op;
    buf_reset(&e->last);
    buf_append(&e->last, data, len);
    if (e->echo)
        ws_send(e->ws, op == WS_BINARY, data, len);
}

static void end_close(void *arg, int code, const char *reason)
{
    struct end *e = arg;
    e->closed++;
    e->close_code = code;
    snprintf(e->close_reason, sizeof(e->close_reason), "%s", reason);
}

static const struct ws_ops end_ops = {end_send, end_message, end_close};

static struct end cli, srv;

static void setup(void)
{
    memset(&cli, 0, sizeof(cli));
    memset(&srv, 0, sizeof(srv));
    buf_init(&cli.out, 0);
    buf_init(&srv.out, 0);
    buf_init(&cli.last, 0);
    buf_init(&srv.last, 0);
    cli.ws = ws_new(true, &end_ops, &cli);
    srv.ws = ws_new(false, &end_ops, &srv);
    srv.echo = true;
}

static void teardown(void)
{
    ws_free(cli.ws);
    ws_free(srv.ws);
    buf_free(&cli.out);
    buf_free(&srv.out);
    buf_free(&cli.last);
    buf_free(&srv.last);
}

/* Moves e's output into the peer, in pieces of `step` bytes (0: all). */
static void deliver(struct end *from, struct end *to, size_t step)
{
    struct buf b = from->out;
    buf_init(&from->out, 0);
    size_t off = 0;
    while (off < b.len) {
        size_t n = step && b.len - off > step ? step : b.len - off;
        ws_feed(to->ws, b.data + off, n);
        off += n;
    }
    buf_free(&b);
}

static void pump(size_t step)
{
    while (cli.out.len || srv.out.len) {
        deliver(&cli, &srv, step);
        deliver(&srv, &cli, step);
    }
}

static void test_accept_key(void)
{
    char out[WS_ACCEPT_KEY_BYTES];
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==",
                       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    CHECK(ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==",
                       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo= "));
    CHECK(!ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==",
                        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo"));
    CHECK(!ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==",
                        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=x"));
    CHECK(!ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==", NULL));
    char k1[WS_CLIENT_KEY_BYTES], k2[WS_CLIENT_KEY_BYTES];
    CHECK_INT(ws_client_key(k1), 0);
    CHECK_INT(ws_client_key(k2), 0);
    CHECK_INT(strlen(k1), 24);
    CHECK(strcmp(k1, k2) != 0);
    CHECK(ws_header_has_token("Upgrade", "upgrade"));
    CHECK(ws_header_has_token("keep-alive, Upgrade", "upgrade"));
    CHECK(ws_header_has_token(" keep-alive ,upgrade  ", "upgrade"));
    CHECK(!ws_header_has_token("keep-alive", "upgrade"));
    CHECK(!ws_header_has_token("upgrades", "upgrade"));
    CHECK(!ws_header_has_token("", "upgrade"));
}

static void test_round_trip(void)
{
    setup();
    static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536,
                                   1 << 20};
    char *data = malloc(1 << 20);
    for (size_t i = 0; i < (1 << 20); i++)
        data[i] = (char)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (int binary = 0; binary < 2; binary++) {
            size_t n = sizes[i];
            /* Text must be UTF-8: use ASCII. */
            char *msg = malloc(n ? n : 1);
            for (size_t j = 0; j < n; j++)
                msg[j] = binary ? data[j] : (char)('a' + j % 26);
            int before = cli.messages;
            CHECK_INT(ws_send(cli.ws, binary, msg, n), 0);
            /* Client frames are masked, and the payload never appears in
             * the clear. */
            CHECK(cli.out.len >= 2 && ((uint8_t)cli.out.data[1] & 0x80));
            pump(0);
            CHECK_INT(srv.messages, before + 1);
            CHECK_INT(cli.messages, before + 1);
            CHECK_INT(cli.last.len, n);
            CHECK(n == 0 || memcmp(cli.last.data, msg, n) == 0);
            CHECK_INT(cli.last_op, binary ? WS_BINARY : WS_TEXT);
            free(msg);
        }
    }
    /* Server frames are not masked. */
    CHECK_INT(ws_send(srv.ws, true, "x", 1), 0);
    CHECK_INT(srv.out.len, 3);
    CHECK(((uint8_t)srv.out.data[1] & 0x80) == 0);
    pump(0);
    CHECK_INT(cli.last.len, 1);
    /* Ping: answered, no message, no close. */
    int msgs = cli.messages;
    CHECK_INT(ws_ping(cli.ws), 0);
    pump(0);
    CHECK_INT(cli.messages, msgs);
    CHECK_INT(cli.closed + srv.closed, 0);
    free(data);
    CHECK_INT(ws_send(cli.ws, true, "x", WS_MAX_MESSAGE_BYTES + 1),
              -KE_TOOBIG);
    teardown();
}

static void test_byte_by_byte(void)
{
    setup();
    const char *text = "h\xc3\xa9llo w\xc3\xb6rld";
    for (int i = 0; i < 3; i++)
        CHECK_INT(ws_send(cli.ws, false, text, strlen(text)), 0);
    CHECK_INT(ws_send(cli.ws, true, "\0\1\2", 3), 0);
    pump(1);
    CHECK_INT(srv.messages, 4);
    CHECK_INT(cli.messages, 4);
    CHECK_INT(cli.last.len, 3);
    CHECK_INT(cli.last_op, WS_BINARY);
    teardown();
}

/* A masked client frame (mask key 0: the payload is sent as is). */
static size_t frame(uint8_t *out, int fin, int opcode, const void *payload,
                    size_t len)
{
    size_t n = 0;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        out[n++] = (uint8_t)(0x80 | len);
    } else {
        out[n++] = 0x80 | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    }
    memset(out + n, 0, 4);
    n += 4;
    memcpy(out + n, payload, len);
    return n + len;
}

static void feed_bytewise(struct ws *ws, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        ws_feed(ws, data + i, 1);
}

static void test_fragmented(void)
{
    setup();
    srv.echo = false;
    uint8_t in[512];
    size_t n = 0;
    n += frame(in + n, 0, 0x1, "Hel", 3);
    n += frame(in + n, 1, 0x9, "p", 1);   /* ping between fragments */
    n += frame(in + n, 0, 0x0, "lo, ", 4);
    n += frame(in + n, 1, 0x0, "world", 5);
    feed_bytewise(srv.ws, in, n);
    CHECK_INT(srv.messages, 1);
    CHECK_STR(srv.last.data, "Hello, world");
    CHECK_INT(srv.last_op, WS_TEXT);
    /* The pong went out: an unmasked 0xA frame carrying "p". */
    CHECK_INT(srv.out.len, 3);
    CHECK_INT((uint8_t)srv.out.data[0], 0x8a);
    CHECK_INT(srv.out.data[2], 'p');
    CHECK_INT(srv.closed, 0);
    teardown();
}

static void test_too_big(void)
{
    /* Over a configured maximum: the receiver sends 1009 and finishes;
     * the sender learns the code from the close frame. */
    setup();
    ws_set_max_message(srv.ws, 1000);
    char big[2000];
    memset(big, 'x', sizeof(big));
    CHECK_INT(ws_send(cli.ws, true, big, sizeof(big)), 0);
    pump(0);
    CHECK_INT(srv.messages, 0);
    CHECK_INT(srv.closed, 1);
    CHECK_INT(srv.close_code, WS_CLOSE_TOO_BIG);
    CHECK_INT(cli.closed, 1);
    CHECK_INT(cli.close_code, WS_CLOSE_TOO_BIG);
    CHECK_INT(ws_send(srv.ws, true, "x", 1), -EPIPE);
    CHECK_INT(ws_feed(srv.ws, "x", 1), -EPIPE);
    teardown();

    /* The default limit (16 MiB): a frame header announcing 17 MiB is
     * refused with its first payload byte, nothing is buffered. */
    setup();
    uint8_t hdr[15] = {0x82, 0x80 | 127, 0, 0, 0, 0, 0x01, 0x10, 0, 0,
                       0, 0, 0, 0, 'x'};
    ws_feed(srv.ws, hdr, sizeof(hdr));
    CHECK_INT(srv.closed, 1);
    CHECK_INT(srv.close_code, WS_CLOSE_TOO_BIG);
    /* The close frame on the wire: 0x88, length 2, code 1009. */
    CHECK(srv.out.len >= 4);
    CHECK_INT((uint8_t)srv.out.data[0], 0x88);
    CHECK_INT(((uint8_t)srv.out.data[2] << 8) | (uint8_t)srv.out.data[3],
              1009);
    teardown();
}

static void expect_protocol_error(const uint8_t *in, size_t n, int wire_code)
{
    setup();
    ws_feed(srv.ws, in, n);
    CHECK_INT(srv.messages, 0);
    CHECK_INT(srv.closed, 1);
    CHECK_INT(srv.close_code, WS_CLOSE_PROTOCOL_ERROR);
    CHECK(srv.out.len >= 2);
    CHECK_INT((uint8_t)srv.out.data[0], 0x88);
    if (wire_code) {
        CHECK(srv.out.len >= 4);
        CHECK_INT(((uint8_t)srv.out.data[2] << 8) | (uint8_t)srv.out.data[3],
                  wire_code);
    }
    /* The peer sees the connection finish. */
    deliver(&srv, &cli, 0);
    CHECK_INT(cli.closed, 1);
    teardown();
}

static void test_invalid_frames(void)
{
    uint8_t in[256];
    /* Unmasked frame from a client. */
    const uint8_t unmasked[] = {0x82, 0x01, 'x'};
    expect_protocol_error(unmasked, sizeof(unmasked), 1002);
    /* Reserved opcode 0x3. */
    size_t n = frame(in, 1, 0x3, "x", 1);
    expect_protocol_error(in, n, 1002);
    /* RSV1 set without an extension. */
    n = frame(in, 1, 0x2, "x", 1);
    in[0] |= 0x40;
    expect_protocol_error(in, n, 1002);
    /* A continuation with nothing to continue. */
    n = frame(in, 1, 0x0, "x", 1);
    expect_protocol_error(in, n, 1002);
    /* A new message inside a fragmented one. */
    n = frame(in, 0, 0x1, "a", 1);
    n += frame(in + n, 1, 0x1, "b", 1);
    expect_protocol_error(in, n, 1002);
    /* A close with an invalid code (1005 may not be sent). */
    const uint8_t code1005[] = {0x03, 0xed};
    n = frame(in, 1, 0x8, code1005, 2);
    expect_protocol_error(in, n, 1002);
    /* A ping over 125 bytes and a fragmented ping: refused by the frame
     * layer, whose close carries no code. */
    char ping[130];
    memset(ping, 'p', sizeof(ping));
    n = frame(in, 1, 0x9, ping, sizeof(ping));
    expect_protocol_error(in, n, 0);
    n = frame(in, 0, 0x9, "p", 1);
    expect_protocol_error(in, n, 0);
}

static void test_invalid_utf8(void)
{
    setup();
    uint8_t in[64];
    size_t n = frame(in, 1, 0x1, "ok \xff", 4);
    ws_feed(srv.ws, in, n);
    CHECK_INT(srv.messages, 0);
    CHECK_INT(srv.closed, 1);
    CHECK_INT(srv.close_code, WS_CLOSE_INVALID_DATA);
    teardown();
    /* UTF-8 split across fragments is fine. */
    setup();
    srv.echo = false;
    n = frame(in, 0, 0x1, "\xc3", 1);
    n += frame(in + n, 1, 0x0, "\xa9", 1);
    ws_feed(srv.ws, in, n);
    CHECK_INT(srv.messages, 1);
    CHECK_STR(srv.last.data, "\xc3\xa9");
    CHECK_INT(srv.closed, 0);
    teardown();
}

static void test_close_handshake(void)
{
    setup();
    CHECK_INT(ws_close(cli.ws, 1000, "bye"), 0);
    CHECK_INT(ws_close(cli.ws, 1000, "again"), -EPIPE);
    CHECK_INT(ws_send(cli.ws, true, "x", 1), -EPIPE);
    CHECK_INT(cli.closed, 0); /* waits for the answer */
    pump(0);
    CHECK_INT(srv.closed, 1);
    CHECK_INT(srv.close_code, 1000);
    CHECK_STR(srv.close_reason, "bye");
    CHECK_INT(cli.closed, 1);
    CHECK_INT(cli.close_code, 1000);
    CHECK(ws_finished(cli.ws) && ws_finished(srv.ws));
    teardown();

    /* Messages still in flight from the peer are delivered before its
     * answer to the close; a close without a code reports 1005. */
    setup();
    srv.echo = false;
    CHECK_INT(ws_send(srv.ws, false, "late", 4), 0);
    CHECK_INT(ws_close(cli.ws, 0, NULL), 0);
    pump(0);
    CHECK_INT(cli.messages, 1);
    CHECK_INT(cli.closed, 1);
    CHECK_INT(srv.closed, 1);
    /* A long reason is cut to what a close frame can carry. */
    teardown();
    setup();
    char longr[300];
    memset(longr, 'r', sizeof(longr) - 1);
    longr[sizeof(longr) - 1] = 0;
    CHECK_INT(ws_close(srv.ws, 4000, longr), 0);
    pump(0);
    CHECK_INT(cli.close_code, 4000);
    CHECK_INT(strlen(cli.close_reason), WS_MAX_REASON_BYTES);
    teardown();
}

static void test_transport_refuses(void)
{
    setup();
    cli.refuse = true;
    CHECK_INT(ws_send(cli.ws, true, "x", 1), -EIO);
    CHECK_INT(cli.closed, 1);
    CHECK_INT(cli.close_code, WS_CLOSE_ABNORMAL);
    CHECK_INT(ws_send(cli.ws, true, "x", 1), -EPIPE);
    teardown();
}

int main(void)
{
    test_accept_key();
    test_round_trip();
    test_byte_by_byte();
    test_fragmented();
    test_too_big();
    test_invalid_frames();
    test_invalid_utf8();
    test_close_handshake();
    test_transport_refuses();
    return unit_done("test_ws");
}
