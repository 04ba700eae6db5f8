/*
 * faultproxy: a userspace TCP proxy that makes a link bad on command, for
 * the weak-network tests (this machine has no tc netem).
 *
 *   faultproxy LISTEN_PORT TARGET_HOST TARGET_PORT CONTROL_PORT
 *
 * prints "faultproxy ready LISTEN_PORT CONTROL_PORT" (ports may be 0 to
 * pick free ones; the ready line has the real ones). The control port
 * takes one command per connection (a line; the answer is "ok" or an
 * error):
 *
 *   pass            forward everything at once (the start state)
 *   delay MS        hold every chunk MS milliseconds in each direction
 *   cut             close every connection and refuse (close) new ones
 *   blackhole       keep connections open but drop everything both ways
 *   flap UP DOWN    alternate: UP ms of pass, then DOWN ms of cut, ...
 *   stats           "connections N bytes_up N bytes_down N"
 *
 * Everything runs on one libuv loop; loopback only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

enum mode { PASS, DELAY, CUT, BLACKHOLE };

struct link;

/* One direction's delayed chunk. */
struct chunk {
    struct chunk *next;
    uint64_t due;
    size_t len;
    char data[];
};

struct side {
    uv_tcp_t tcp;
    struct link *link;
    struct side *peer;
    bool up;            /* client -> target */
    struct chunk *head, *tail;
    bool closed;
};

struct link {
    struct link *prev, *next;
    struct side client, target;
    uv_connect_t connect;
    int closing;        /* handles closed so far */
    bool dead;
};

static uv_loop_t *loop;
static struct sockaddr_in target_addr;
static enum mode mode = PASS;
static uint64_t delay_ms;
static uint64_t flap_up, flap_down;
static bool flapping, flap_is_down;
static uv_timer_t flap_timer, delay_timer;
static struct link *links;
static long nconns;
static unsigned long long bytes_up, bytes_down;

static void on_closed(uv_handle_t *h)
{
    struct side *s = h->data;
    struct link *l = s->link;
    while (s->head) {
        struct chunk *c = s->head;
        s->head = c->next;
        free(c);
    }
    if (++l->closing == 2)
        free(l);
}

static void link_close(struct link *l)
{
    if (l->dead)
        return;
    l->dead = true;
    if (l->prev)
        l->prev->next = l->next;
    else
        links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    nconns--;
    uv_close((uv_handle_t *)&l->client.tcp, on_closed);
    uv_close((uv_handle_t *)&l->target.tcp, on_closed);
}

static void cut_all(void)
{
    while (links)
        link_close(links);
}

struct wreq {
    uv_write_t req;
    char data[];
};

static void on_written(uv_write_t *w, int status)
{
    free(w);
}

static void forward(struct side *to, const char *data, size_t len)
{
    if (to->link->dead)
        return;
    struct wreq *w = malloc(sizeof(*w) + len);
    if (!w)
        return;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&to->tcp, &b, 1, on_written) != 0) {
        free(w);
        link_close(to->link);
    }
}

static void arm_delay(void);

static void on_delay(uv_timer_t *t)
{
    uint64_t now = uv_now(loop);
    for (struct link *l = links; l; l = l->next) {
        struct side *sides[2] = {&l->client, &l->target};
        for (int i = 0; i < 2; i++) {
            struct side *s = sides[i];
            while (s->head && s->head->due <= now && !l->dead) {
                struct chunk *c = s->head;
                s->head = c->next;
                if (!s->head)
                    s->tail = NULL;
                forward(s->peer, c->data, c->len);
                free(c);
            }
        }
    }
    arm_delay();
}

static void arm_delay(void)
{
    uint64_t next = 0;
    for (struct link *l = links; l; l = l->next) {
        if (l->client.head && (!next || l->client.head->due < next))
            next = l->client.head->due;
        if (l->target.head && (!next || l->target.head->due < next))
            next = l->target.head->due;
    }
    if (!next)
        return;
    uint64_t now = uv_now(loop);
    uv_timer_start(&delay_timer, on_delay, next > now ? next - now : 0, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    b->base = malloc(65536);
    b->len = b->base ? 65536 : 0;
}

/* Bytes read from side s go to its peer. */
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct side *s = st->data;
    struct link *l = s->link;
    if (n < 0) {
        free(b->base);
        link_close(l);
        return;
    }
    if (n == 0 || mode == BLACKHOLE || l->dead) {
        free(b->base);
        return;
    }
    if (s->up)
        bytes_up += (unsigned long long)n;
    else
        bytes_down += (unsigned long long)n;
    if (mode == DELAY || s->head) {
        /* Queued behind earlier chunks so order is kept. */
        struct chunk *c = malloc(sizeof(*c) + (size_t)n);
        if (c) {
            c->next = NULL;
            c->due = uv_now(loop) + delay_ms;
            c->len = (size_t)n;
            memcpy(c->data, b->base, (size_t)n);
            if (s->tail)
                s->tail->next = c;
            else
                s->head = c;
            s->tail = c;
            arm_delay();
        }
    } else {
        forward(s->peer, b->base, (size_t)n);
    }
    free(b->base);
}

static void on_target_connected(uv_connect_t *c, int status)
{
    struct link *l = c->data;
    if (l->dead)
        return;
    if (status != 0) {
        link_close(l);
        return;
    }
    uv_read_start((uv_stream_t *)&l->client.tcp, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&l->target.tcp, on_alloc, on_read);
}

static void on_client(uv_stream_t *server, int status)
{
    if (status != 0)
        return;
    struct link *l = calloc(1, sizeof(*l));
    if (!l)
        return;
    uv_tcp_init(loop, &l->client.tcp);
    uv_tcp_init(loop, &l->target.tcp);
    l->client.tcp.data = &l->client;
    l->target.tcp.data = &l->target;
    l->client.link = l->target.link = l;
    l->client.peer = &l->target;
    l->target.peer = &l->client;
    l->client.up = true;
    l->next = links;
    if (links)
        links->prev = l;
    links = l;
    nconns++;
    if (uv_accept(server, (uv_stream_t *)&l->client.tcp) != 0 || mode == CUT) {
        link_close(l);
        return;
    }
    uv_tcp_nodelay(&l->client.tcp, 1);
    uv_tcp_nodelay(&l->target.tcp, 1);
    l->connect.data = l;
    if (uv_tcp_connect(&l->connect, &l->target.tcp,
                       (const struct sockaddr *)&target_addr,
                       on_target_connected) != 0)
        link_close(l);
}

/* ---- control ---------------------------------------------------------- */

static void on_flap(uv_timer_t *t)
{
    flap_is_down = !flap_is_down;
    mode = flap_is_down ? CUT : PASS;
    if (flap_is_down)
        cut_all();
    uv_timer_start(&flap_timer, on_flap, flap_is_down ? flap_down : flap_up, 0);
}

struct ctl {
    uv_tcp_t tcp;
    char line[256];
    size_t len;
};

static void ctl_closed(uv_handle_t *h) { free(h->data); }

static void ctl_reply(struct ctl *c, const char *text)
{
    struct wreq *w = malloc(sizeof(*w) + strlen(text));
    if (w) {
        memcpy(w->data, text, strlen(text));
        uv_buf_t b = uv_buf_init(w->data, (unsigned)strlen(text));
        if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written))
            free(w);
    }
    uv_close((uv_handle_t *)&c->tcp, ctl_closed);
}

static void command(struct ctl *c)
{
    char *nl = strchr(c->line, '\n');
    if (nl)
        *nl = 0;
    unsigned long long a = 0, b = 0;
    char out[200];
    if (flapping && strncmp(c->line, "stats", 5) != 0) {
        uv_timer_stop(&flap_timer);
        flapping = false;
    }
    if (strcmp(c->line, "pass") == 0) {
        mode = PASS;
    } else if (sscanf(c->line, "delay %llu", &a) == 1) {
        mode = DELAY;
        delay_ms = a;
    } else if (strcmp(c->line, "cut") == 0) {
        mode = CUT;
        cut_all();
    } else if (strcmp(c->line, "blackhole") == 0) {
        mode = BLACKHOLE;
    } else if (sscanf(c->line, "flap %llu %llu", &a, &b) == 2 && a && b) {
        flap_up = a;
        flap_down = b;
        flapping = true;
        flap_is_down = false;
        mode = PASS;
        uv_timer_start(&flap_timer, on_flap, flap_up, 0);
    } else if (strcmp(c->line, "stats") == 0) {
        snprintf(out, sizeof(out), "connections %ld bytes_up %llu bytes_down "
                                   "%llu\n",
                 nconns, bytes_up, bytes_down);
        ctl_reply(c, out);
        return;
    } else {
        ctl_reply(c, "error: pass | delay MS | cut | blackhole | flap UP DOWN | "
                     "stats\n");
        return;
    }
    ctl_reply(c, "ok\n");
}

static void ctl_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct ctl *c = h->data;
    b->base = c->line + c->len;
    b->len = sizeof(c->line) - 1 - c->len;
}

static void ctl_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct ctl *c = st->data;
    if (n < 0) {
        uv_close((uv_handle_t *)&c->tcp, ctl_closed);
        return;
    }
    c->len += (size_t)n;
    c->line[c->len] = 0;
    if (strchr(c->line, '\n') || c->len == sizeof(c->line) - 1) {
        uv_read_stop(st);
        command(c);
    }
}

static void on_ctl(uv_stream_t *server, int status)
{
    struct ctl *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, ctl_closed);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, ctl_alloc, ctl_read);
}

static int listen_on(uv_tcp_t *t, int port, uv_connection_cb cb)
{
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", port, &a);
    uv_tcp_init(loop, t);
    int rc = uv_tcp_bind(t, (const struct sockaddr *)&a, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)t, 128, cb);
    if (rc)
        return rc;
    struct sockaddr_storage sa;
    int len = sizeof(sa);
    uv_tcp_getsockname(t, (struct sockaddr *)&sa, &len);
    return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: faultproxy LISTEN_PORT TARGET_HOST "
                        "TARGET_PORT CONTROL_PORT\n");
        return 2;
    }
    loop = uv_default_loop();
    if (uv_ip4_addr(argv[2], atoi(argv[3]), &target_addr) != 0) {
        fprintf(stderr, "faultproxy: bad target %s:%s\n", argv[2], argv[3]);
        return 2;
    }
    uv_timer_init(loop, &flap_timer);
    uv_timer_init(loop, &delay_timer);
    static uv_tcp_t server, control;
    int p = listen_on(&server, atoi(argv[1]), on_client);
    int cp = listen_on(&control, atoi(argv[4]), on_ctl);
    if (p < 0 || cp < 0) {
        fprintf(stderr, "faultproxy: cannot listen: %s\n",
                uv_strerror(p < 0 ? p : cp));
        return 1;
    }
    printf("faultproxy ready %d %d\n", p, cp);
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
