#!/usr/bin/python3
"""The Debian python3-kubernetes client (22.6) against kedge cloud.

Every kind the server serves goes through the same suite: create (and
generateName), read, list with label and field selectors and limit +
continue paging, replace (and a stale replace: 409), patch (the client's
strategic merge, JSON patch, merge patch), delete, delete_collection,
AlreadyExists/NotFound, and watches (live, from a resourceVersion) that
must carry exactly the writes, in order, with their resourceVersions.
Then the behaviour of single kinds: namespaces (termination), pods
(validation, binding, status), deployments (validation, status, scale,
generation), finalizers, preconditions, events in both APIs, paging
snapshots and a watch too old for the server's window (410).

The typed client insists on the fields Kubernetes always sends when it
decodes an answer into its models; the common suite works on the JSON the
server sent so that one missing field does not hide everything else, and
checks separately, kind by kind, that the models decode it.
"""

import base64
import json
import os
import re
import sys
import threading
import time
from types import SimpleNamespace

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kedge_e2e import (Cloud, check, check_eq, check_match, fail,  # noqa: E402
                       finish, section)

from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

# The API machinery on its own: no controller writes to the workloads
# these checks create and watch (test_deployments.sh covers those).
cloud = Cloud(args=["--disable-controllers"]).start()
config.load_kube_config(config_file=cloud.kubeconfig)

strict = client.ApiClient()
core = client.CoreV1Api()
apps = client.AppsV1Api()
batch = client.BatchV1Api()
coord = client.CoordinationV1Api()
events_api = client.EventsV1Api()

UID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIME_RE = r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
CONFLICT_MSG = ("Operation cannot be fulfilled on %s \"%s\": the object has "
                "been modified; please apply your changes to the latest "
                "version and try again")


# --- helpers ----------------------------------------------------------------

def raw(fn, *args, **kw):
    """Calls a typed API method and returns the JSON the server sent."""
    r = fn(*args, _preload_content=False, **kw)
    return json.loads(r.data)


def expect_error(what, status, reason, msg_re, fn, *args, **kw):
    """fn must fail with an ApiException of that status whose Status
    body has that reason and a message matching msg_re; returns it."""
    try:
        fn(*args, **kw)
    except ApiException as e:
        check_eq("%s: HTTP status" % what, e.status, status)
        try:
            body = json.loads(e.body)
        except (TypeError, ValueError):
            fail("%s: error body is not JSON: %r" % (what, e.body))
            return None
        check_eq("%s: kind" % what, body.get("kind"), "Status")
        check_eq("%s: status" % what, body.get("status"), "Failure")
        check_eq("%s: code" % what, body.get("code"), status)
        if reason is not None:
            check_eq("%s: reason" % what, body.get("reason"), reason)
        check_match("%s: message" % what, body.get("message"), msg_re)
        return body
    fail("%s: succeeded, want HTTP %d" % (what, status))
    return None


def merge_patch(path, body, response_type=None):
    """PATCH with application/merge-patch+json through ApiClient.call_api
    (the typed patch_* methods cannot send it for built-in kinds). Returns
    the model, or without a response_type the JSON the server sent."""
    r = strict.call_api(
        path, "PATCH",
        header_params={"Content-Type": "application/merge-patch+json",
                       "Accept": "application/json"},
        body=body, response_type=response_type,
        auth_settings=["BearerToken"], _return_http_data_only=True,
        _preload_content=response_type is not None)
    return r if response_type else json.loads(r.data)


def dig(obj, path):
    for p in path:
        if isinstance(obj, list):
            if not isinstance(p, int) or p >= len(obj):
                return None
            obj = obj[p]
        elif isinstance(obj, dict):
            obj = obj.get(p)
        else:
            return None
    return obj


def set_path(obj, path, value):
    for p in path[:-1]:
        if isinstance(obj, dict) and p not in obj:
            obj[p] = {}
        obj = obj[p]
    obj[path[-1]] = value


def names(lst):
    return [i.metadata.name for i in lst.items]


def wait_until(what, pred, timeout=30, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    fail("%s: not within %ss" % (what, timeout))
    return False


def gone(fn, *args):
    try:
        fn(*args)
    except ApiException as e:
        return e.status == 404
    return False


class Watcher:
    """Runs Watch().stream(list_fn, ...) in a thread and collects events
    (objects as the JSON the server sent). Stops on its own once
    `until(events)` holds (checked after each event) or the server ends
    the watch (timeout_seconds)."""

    def __init__(self, list_fn, *args, until=None, **kw):
        self.events = []
        self.error = None
        self.done = False
        self.until = until
        self.cond = threading.Condition()
        self.w = watch.Watch(return_type="object")
        kw.setdefault("timeout_seconds", 30)
        kw.setdefault("_request_timeout", 60)
        self.thread = threading.Thread(target=self._run,
                                       args=(list_fn, args, kw), daemon=True)
        self.thread.start()

    def _run(self, list_fn, args, kw):
        try:
            for ev in self.w.stream(list_fn, *args, **kw):
                with self.cond:
                    self.events.append(ev)
                    self.cond.notify_all()
                    if self.until and self.until(self.events):
                        self.w.stop()
        except Exception as e:  # reported by the test thread
            self.error = e
        finally:
            with self.cond:
                self.done = True
                self.cond.notify_all()

    def wait(self, pred, timeout=15):
        with self.cond:
            return self.cond.wait_for(
                lambda: pred(self.events) or self.done, timeout) and \
                pred(self.events)

    def finished(self, timeout=15):
        self.thread.join(timeout)
        return not self.thread.is_alive()


def ev_key(ev):
    md = ev["raw_object"].get("metadata", {})
    return (ev["type"], md.get("name"), md.get("resourceVersion"))


def check_watch(what, events, steps, kind):
    """events must be exactly the steps: each step a list of (type, name,
    rv or None) writes that may arrive in any order among themselves; all
    resourceVersions increase and every object says its kind."""
    got = [ev_key(e) for e in events]
    i = 0
    for step in steps:
        chunk = got[i:i + len(step)]
        i += len(step)
        want = sorted((t, n) for t, n, _ in step)
        have = sorted((t, n) for t, n, _ in chunk)
        if want != have:
            fail("%s: events %r, want %r (all: %r)" % (what, have, want, got))
            return False
        for t, n, rv in step:
            if rv is None:
                continue
            match = [c for c in chunk if c[0] == t and c[1] == n]
            if not any(c[2] == rv for c in match):
                fail("%s: %s %s has resourceVersion %r, want %s" % (
                    what, t, n, [c[2] for c in match], rv))
    if i != len(got):
        fail("%s: unexpected extra events %r" % (what, got[i:]))
    rvs = [int(r) for _, _, r in got if r and r.isdigit()]
    check("%s: resourceVersions increase" % what,
          rvs == sorted(rvs) and len(set(rvs)) == len(rvs), repr(got))
    for e in events:
        if e["raw_object"].get("kind") != kind:
            fail("%s: %s event object has kind %r, want %r" % (
                what, e["type"], e["raw_object"].get("kind"), kind))
            break
    return True


# --- the kinds --------------------------------------------------------------

class Kind:
    def __init__(self, kind, api, suffix, path, qualified, body, mutate,
                 namespaced=True, delcol=True, generation=False):
        self.kind = kind
        self.api = api
        self.suffix = suffix
        self.path = path  # URL path of the collection; {ns} for namespaced
        self.qualified = qualified  # resource[.group] as in messages
        self.body = body  # ns -> object without metadata
        self.mutate = mutate  # (path, value): a change for replace
        self.namespaced = namespaced
        self.delcol = delcol
        self.generation = generation

        gv = path.split("/namespaces/")[0].rsplit("/", 1)[0] \
            if not namespaced else path.split("/namespaces/")[0]
        self.api_version = re.sub(r"^/apis?/", "", gv)
        self.model = watch.watch._find_return_type(self.fn("read"))

    def fn(self, verb):
        return getattr(self.api, "%s_%s" % (verb, self.suffix))


def pod_spec(image="busybox:1.36"):
    return {"containers": [{"name": "c", "image": image}]}


def workload(labels, extra=None):
    spec = {"selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": pod_spec()}}
    spec.update(extra or {})
    return {"spec": spec}


IMAGE = (["spec", "template", "spec", "containers", 0, "image"],
         "busybox:1.37")
EVENT_TIME = "2024-05-01T10:00:00.000000Z"

KINDS = [
    Kind("Pod", core, "namespaced_pod", "/api/v1/namespaces/{ns}/pods",
         "pods", lambda ns: {"spec": pod_spec()},
         (["spec", "containers", 0, "image"], "busybox:1.37")),
    Kind("Service", core, "namespaced_service",
         "/api/v1/namespaces/{ns}/services", "services",
         lambda ns: {"spec": {"ports": [{"port": 80}]}},
         (["spec", "ports", 0, "port"], 81), delcol=False),
    Kind("Endpoints", core, "namespaced_endpoints",
         "/api/v1/namespaces/{ns}/endpoints", "endpoints",
         lambda ns: {"subsets": [{"addresses": [{"ip": "10.1.0.1"}],
                                  "ports": [{"port": 80}]}]},
         (["subsets", 0, "addresses", 0, "ip"], "10.1.0.2")),
    Kind("ConfigMap", core, "namespaced_config_map",
         "/api/v1/namespaces/{ns}/configmaps", "configmaps",
         lambda ns: {"data": {"k": "v1"}}, (["data", "k"], "v2")),
    Kind("Secret", core, "namespaced_secret",
         "/api/v1/namespaces/{ns}/secrets", "secrets",
         lambda ns: {"type": "Opaque",
                     "data": {"k": base64.b64encode(b"v1").decode()}},
         (["data", "k"], base64.b64encode(b"v2").decode())),
    Kind("ServiceAccount", core, "namespaced_service_account",
         "/api/v1/namespaces/{ns}/serviceaccounts", "serviceaccounts",
         lambda ns: {}, (["automountServiceAccountToken"], False)),
    Kind("Event", core, "namespaced_event", "/api/v1/namespaces/{ns}/events",
         "events",
         lambda ns: {"involvedObject": {"kind": "Pod", "name": "web",
                                        "namespace": ns},
                     "reason": "Started", "message": "m1", "type": "Normal",
                     "source": {"component": "e2e"}},
         (["message"], "m2")),
    Kind("Node", core, "node", "/api/v1/nodes", "nodes", lambda ns: {},
         (["spec", "unschedulable"], True), namespaced=False),
    Kind("Event", events_api, "namespaced_event",
         "/apis/events.k8s.io/v1/namespaces/{ns}/events",
         "events.events.k8s.io",
         lambda ns: {"eventTime": EVENT_TIME,
                     "reportingController": "example.com/e2e",
                     "reportingInstance": "e2e-1", "action": "Start",
                     "reason": "Started", "note": "n1", "type": "Normal",
                     "regarding": {"kind": "Pod", "name": "web",
                                   "namespace": ns}},
         (["series"], {"count": 2,
                       "lastObservedTime": "2024-05-01T10:01:00.000000Z"})),
    Kind("Lease", coord, "namespaced_lease",
         "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
         "leases.coordination.k8s.io",
         lambda ns: {"spec": {"holderIdentity": "h1",
                              "leaseDurationSeconds": 40}},
         (["spec", "holderIdentity"], "h2")),
    Kind("Deployment", apps, "namespaced_deployment",
         "/apis/apps/v1/namespaces/{ns}/deployments", "deployments.apps",
         lambda ns: workload({"app": "web"}), IMAGE, generation=True),
    Kind("ReplicaSet", apps, "namespaced_replica_set",
         "/apis/apps/v1/namespaces/{ns}/replicasets", "replicasets.apps",
         lambda ns: workload({"app": "web"}), IMAGE, generation=True),
    Kind("DaemonSet", apps, "namespaced_daemon_set",
         "/apis/apps/v1/namespaces/{ns}/daemonsets", "daemonsets.apps",
         lambda ns: workload({"app": "web"}), IMAGE, generation=True),
    Kind("StatefulSet", apps, "namespaced_stateful_set",
         "/apis/apps/v1/namespaces/{ns}/statefulsets", "statefulsets.apps",
         lambda ns: workload({"app": "web"}, {"serviceName": "web"}), IMAGE,
         generation=True),
    Kind("Job", batch, "namespaced_job", "/apis/batch/v1/namespaces/{ns}/jobs",
         "jobs.batch",
         lambda ns: {"spec": {"template": {"spec": dict(
             pod_spec(), restartPolicy="Never")}}},
         (["spec", "parallelism"], 2), generation=True),
]


def crud_suite(k):
    """The common verbs, errors and watches for one kind."""
    short = k.qualified.split(".")[0] + ("-v1" if "events.k8s.io" in
                                          k.qualified else "")
    ns = "py-" + short if k.namespaced else None
    if ns:
        core.create_namespace({"metadata": {"name": ns}})
    args = (ns,) if ns else ()
    prefix = "" if ns else "py-%s-" % short
    suite = "py-" + short
    sel = "suite=" + suite
    path = k.path.replace("{ns}", ns or "")

    def nm(x):
        return prefix + x

    def new(x, idx, group=None, generate=False, namespace=ns):
        labels = {"suite": suite, "idx": str(idx)}
        if group:
            labels["group"] = group
        b = k.body(namespace)
        b["metadata"] = {"labels": labels}
        if generate:
            b["metadata"]["generateName"] = nm("gen-")
        else:
            b["metadata"]["name"] = nm(x)
        return b

    def rv(o):
        return o["metadata"].get("resourceVersion")

    def rnames(lst_json):
        return [i["metadata"]["name"] for i in lst_json["items"]]

    create, read, lst = k.fn("create"), k.fn("read"), k.fn("list")
    replace, patch, delete = k.fn("replace"), k.fn("patch"), k.fn("delete")
    what = k.qualified

    rv0 = rv(raw(lst, *args, label_selector=sel))
    check_match("%s: list resourceVersion" % what, rv0, r"^[0-9]+$")

    steps = []
    a = raw(create, *args, new("a", 0, "even"))
    steps.append([("ADDED", nm("a"), rv(a))])

    # A live watch: its initial ADDED for "a" says it is established.
    w1 = Watcher(lst, *args, label_selector=sel)
    if not w1.wait(lambda evs: len(evs) >= 1):
        fail("%s: live watch sent no initial event (%r)" % (what, w1.error))

    created = {"a": a}
    for x, idx, group in (("b", 1, "odd"), ("c", 2, "even"), ("d", 3, "odd")):
        o = raw(create, *args, new(x, idx, group))
        created[x] = o
        steps.append([("ADDED", nm(x), rv(o))])
    g = raw(create, *args, new(None, 4, generate=True))
    gen = g["metadata"]["name"]
    check_match("%s: generateName" % what, gen, "^" + nm("gen-") +
                r"[a-z0-9]{5}$")
    check_eq("%s: generateName kept" % what, g["metadata"].get("generateName"),
             nm("gen-"))
    steps.append([("ADDED", gen, rv(g))])

    # What the create answered, and what a read returns.
    b = created["b"]
    check_eq("%s: create answers kind" % what, (b.get("apiVersion"),
                                                b.get("kind")),
             (k.api_version, k.kind))
    check_eq("%s: create returns the name" % what, b["metadata"]["name"],
             nm("b"))
    check_eq("%s: namespace" % what, b["metadata"].get("namespace"), ns)
    check_match("%s: uid" % what, b["metadata"].get("uid"), UID_RE)
    check_match("%s: resourceVersion" % what, rv(b), r"^[0-9]+$")
    check("%s: resourceVersions of creates increase" % what,
          int(rv(a)) < int(rv(b)) < int(rv(g)))
    rb = raw(read, nm("b"), *args)
    check_eq("%s: read kind" % what, (rb.get("apiVersion"), rb.get("kind")),
             (k.api_version, k.kind))
    check_eq("%s: read uid" % what, rb["metadata"].get("uid"),
             b["metadata"]["uid"])
    check_eq("%s: read resourceVersion" % what, rv(rb), rv(b))
    check_match("%s: creationTimestamp" % what,
                rb["metadata"].get("creationTimestamp"), TIME_RE)
    check_eq("%s: labels" % what, rb["metadata"].get("labels"),
             {"suite": suite, "idx": "1", "group": "odd"})
    if k.generation:
        check_eq("%s: generation of a new object" % what,
                 rb["metadata"].get("generation"), 1)

    # The stock client decodes what the server sends into its models.
    typed = k.body(ns)
    typed["metadata"] = {"name": nm("typed")}  # not in the watched suite
    for verb, call in (("create", lambda: k.fn("create")(*args, typed)),
            ("read", lambda: k.fn("read")(nm("b"), *args)),
            ("list", lambda: k.fn("list")(*args, label_selector=sel))):
        try:
            call()
        except ValueError as e:
            fail("%s: the python client cannot decode the %s it gets from "
                 "%s: %s" % (what, k.kind, verb, e))
            break
    try:
        delete(nm("typed"), *args)
    except ApiException:
        fail("%s: typed create did not store its object" % what)

    # AlreadyExists and NotFound, with Kubernetes' messages.
    q = re.escape(k.qualified)
    expect_error("%s: create existing" % what, 409, "AlreadyExists",
                 r'^%s "%s" already exists$' % (q, nm("b")),
                 create, *args, new("b", 1))
    for verb, call in (("read", lambda: read(nm("nope"), *args)),
                       ("delete", lambda: delete(nm("nope"), *args)),
                       ("patch", lambda: patch(nm("nope"), *args, [
                           {"op": "add", "path": "/metadata/labels/x",
                            "value": "y"}]))):
        expect_error("%s: %s missing" % (what, verb), 404, "NotFound",
                     r'^%s "%s" not found$' % (q, nm("nope")), call)
    expect_error("%s: replace missing" % what, 404, "NotFound",
                 r'^%s "%s" not found$' % (q, nm("nope")),
                 replace, nm("nope"), *args, new("nope", 9))
    if ns:
        expect_error("%s: create in a missing namespace" % what, 404,
                     "NotFound", r'^namespaces "py-missing" not found$',
                     create, "py-missing",
                     new("x", 9, namespace="py-missing"))

    # Lists with label and field selectors; items come sorted by name.
    all5 = sorted([nm("a"), nm("b"), nm("c"), nm("d"), gen])
    for s, want in ((sel, all5),
                    (sel + ",group=even", [nm("a"), nm("c")]),
                    (sel + ",group==even", [nm("a"), nm("c")]),
                    (sel + ",idx in (1,2)", [nm("b"), nm("c")]),
                    (sel + ",idx notin (1,2)", sorted([nm("a"), nm("d"),
                                                       gen])),
                    (sel + ",group!=even", sorted([nm("b"), nm("d"), gen])),
                    (sel + ",!group", [gen]),
                    (sel + ",group", [nm("a"), nm("b"), nm("c"), nm("d")])):
        check_eq("%s: list -l '%s'" % (what, s),
                 rnames(raw(lst, *args, label_selector=s)), want)
    check_eq("%s: list --field-selector metadata.name" % what,
             rnames(raw(lst, *args,
                        field_selector="metadata.name=" + nm("c"))),
             [nm("c")])
    check_eq("%s: list --field-selector metadata.name!=" % what,
             rnames(raw(lst, *args, label_selector=sel,
                        field_selector="metadata.name!=" + nm("c"))),
             [n for n in all5 if n != nm("c")])
    check_eq("%s: list with both selectors matching nothing" % what,
             rnames(raw(lst, *args, label_selector=sel + ",group=odd",
                        field_selector="metadata.name=" + nm("c"))), [])
    expect_error("%s: unknown field selector" % what, 400, "BadRequest",
                 r'(field label not supported: no\.such|"no\.such" is not a '
                 r'known field selector)',
                 lst, *args, field_selector="no.such=x")
    expect_error("%s: malformed label selector" % what, 400, "BadRequest",
                 r"", lst, *args, label_selector="idx in (1")
    if ns:
        every = getattr(k.api, "list_%s_for_all_namespaces" %
                        k.suffix.replace("namespaced_", ""))
        check_eq("%s: list across namespaces" % what,
                 rnames(raw(every, label_selector=sel,
                            field_selector="metadata.namespace=" + ns)),
                 all5)
        check_eq("%s: list in another namespace" % what,
                 rnames(raw(lst, "default", label_selector=sel)), [])

    # limit + continue.
    pages, token, page_rvs = [], None, []
    for _ in range(10):
        kw = {"label_selector": sel, "limit": 2}
        if token:
            kw["_continue"] = token
        page = raw(lst, *args, **kw)
        pages.append(rnames(page))
        page_rvs.append(rv(page))
        token = page["metadata"].get("continue")
        if not token:
            break
    check_eq("%s: pages of 2" % what, [len(p) for p in pages], [2, 2, 1])
    check_eq("%s: pages cover the list in order" % what,
             sum(pages, []), all5)
    check_eq("%s: continued pages keep the first page's resourceVersion"
             % what, page_rvs, [page_rvs[0]] * len(page_rvs))
    expect_error("%s: bad continue token" % what, 400, "BadRequest",
                 r"continue", lst, *args, limit=2, _continue="garbage")

    # Replace: a changed copy of what was read.
    mpath, mval = k.mutate
    before = raw(read, nm("b"), *args)
    body = json.loads(json.dumps(before))
    set_path(body, mpath, mval)
    r = raw(replace, nm("b"), *args, body)
    rv_b2 = rv(r)
    check("%s: replace bumps resourceVersion" % what,
          int(rv_b2) > int(rv(before)), "%s -> %s" % (rv(before), rv_b2))
    check_eq("%s: replace answers the change" % what, dig(r, mpath), mval)
    steps.append([("MODIFIED", nm("b"), rv_b2)])
    after = raw(read, nm("b"), *args)
    check_eq("%s: replaced %s" % (what, mpath), dig(after, mpath), mval)
    check_eq("%s: replace keeps uid" % what, after["metadata"]["uid"],
             before["metadata"]["uid"])
    check_eq("%s: replace keeps creationTimestamp" % what,
             after["metadata"]["creationTimestamp"],
             before["metadata"]["creationTimestamp"])
    if k.generation:
        check_eq("%s: spec change bumps generation" % what,
                 after["metadata"].get("generation"), 2)

    # Replace with the old resourceVersion: 409 Conflict.
    expect_error("%s: stale replace" % what, 409, "Conflict",
                 "^" + re.escape(CONFLICT_MSG % (k.qualified, nm("b"))) + "$",
                 replace, nm("b"), *args, before)

    # The client's patch with a dict body is a strategic merge patch.
    r = raw(patch, nm("b"), *args, {"metadata": {"annotations": {"smp": "yes"}}})
    check_eq("%s: strategic merge patch answer" % what,
             (r["metadata"].get("annotations") or {}).get("smp"), "yes")
    steps.append([("MODIFIED", nm("b"), rv(r))])

    # JSON patch (list body).
    r = raw(patch, nm("b"), *args, [{"op": "add",
                                     "path": "/metadata/annotations",
                                     "value": {"note": "json"}}])
    check_eq("%s: JSON patch answer" % what,
             r["metadata"].get("annotations"), {"note": "json"})
    steps.append([("MODIFIED", nm("b"), rv(r))])

    # Merge patch through call_api with an explicit Content-Type.
    r = merge_patch(path + "/" + nm("b"),
                    {"metadata": {"labels": {"patched": "merge"}}}, None)
    check_eq("%s: merge patch answer" % what, r["metadata"].get("labels"),
             {"suite": suite, "idx": "1", "group": "odd",
              "patched": "merge"})
    steps.append([("MODIFIED", nm("b"), rv(r))])
    after = raw(read, nm("b"), *args)
    check_eq("%s: patches kept the replaced value" % what,
             dig(after, mpath), mval)
    check_eq("%s: patches stored" % what,
             (after["metadata"].get("annotations"),
              after["metadata"]["labels"].get("patched")),
             ({"note": "json"}, "merge"))
    if k.generation:
        check_eq("%s: metadata patches keep generation" % what,
                 after["metadata"].get("generation"), 2)

    # Delete one, then a collection by label.
    delete(nm("c"), *args)
    steps.append([("DELETED", nm("c"), None)])
    expect_error("%s: read deleted" % what, 404, "NotFound",
                 r'^%s "%s" not found$' % (q, nm("c")),
                 read, nm("c"), *args)
    if k.delcol:
        k.fn("delete_collection")(*args, label_selector=sel + ",group=odd")
    else:
        delete(nm("b"), *args)
        delete(nm("d"), *args)
    steps.append([("DELETED", nm("b"), None), ("DELETED", nm("d"), None)])
    check_eq("%s: left after deleting group=odd" % what,
             rnames(raw(lst, *args, label_selector=sel)),
             sorted([nm("a"), gen]))

    def last_seen(evs):
        return bool(evs) and ev_key(evs[-1])[:2] == ("DELETED", gen)

    w1.until = last_seen
    delete(nm("a"), *args)
    steps.append([("DELETED", nm("a"), None)])
    delete(gen, *args)
    steps.append([("DELETED", gen, None)])
    check_eq("%s: all gone" % what,
             rnames(raw(lst, *args, label_selector=sel)), [])

    # The live watch saw every write, in order, with the right objects.
    w1.wait(last_seen)
    if w1.error:
        fail("%s: live watch: %r" % (what, w1.error))
    check_watch("%s: live watch" % what, w1.events, steps, k.kind)
    mods = [e for e in w1.events if e["type"] == "MODIFIED"]
    if len(mods) == 3:
        check_eq("%s: MODIFIED after replace carries the change" % what,
                 dig(mods[0]["raw_object"], mpath), mval)
        check_eq("%s: MODIFIED after the JSON patch" % what,
                 mods[1]["raw_object"]["metadata"].get("annotations"),
                 {"note": "json"})
        check_eq("%s: MODIFIED after the merge patch" % what,
                 mods[2]["raw_object"]["metadata"]["labels"].get("patched"),
                 "merge")
        try:
            strict.deserialize(SimpleNamespace(data=json.dumps(
                mods[2]["raw_object"])), k.model)
        except ValueError as e:
            fail("%s: the python client cannot decode the %s in a watch "
                 "event: %s" % (what, k.kind, e))
    dels = [e for e in w1.events if e["type"] == "DELETED"]
    if dels:
        check_eq("%s: DELETED carries the last state" % what,
                 [(e["raw_object"]["metadata"].get("uid"),
                   e["raw_object"]["metadata"]["labels"].get("patched"))
                  for e in dels
                  if e["raw_object"]["metadata"]["name"] == nm("b")],
                 [(b["metadata"]["uid"], "merge")])
    check("%s: live watch ended" % what, w1.finished())

    # A watch from the resourceVersion before the first write replays
    # exactly the same events; one from the replace sees only what came
    # after it.
    w2 = Watcher(lst, *args, label_selector=sel, resource_version=rv0,
                 timeout_seconds=10, until=last_seen)
    w2.wait(last_seen)
    check("%s: watch from rv %s: %r" % (what, rv0, w2.error), not w2.error)
    check_watch("%s: watch from rv %s" % (what, rv0), w2.events, steps,
                k.kind)
    if w2.events and w1.events:
        check_eq("%s: replayed objects equal the live ones" % what,
                 [e["raw_object"] for e in w2.events],
                 [e["raw_object"] for e in w1.events])
    w3 = Watcher(lst, *args, label_selector=sel, resource_version=rv_b2,
                 timeout_seconds=10, until=last_seen)
    w3.wait(last_seen)
    idx = [i for i, s in enumerate(steps) if s[0][2] == rv_b2][0]
    check_watch("%s: watch from rv %s" % (what, rv_b2), w3.events,
                steps[idx + 1:], k.kind)
    for w in (w2, w3):
        check("%s: watch from rv ended" % what, w.finished())


for k in KINDS:
    with section("crud %s" % k.qualified):
        crud_suite(k)


# --- namespaces -------------------------------------------------------------

with section("namespaces"):
    sel = "suite=py-ns"
    rv0 = core.list_namespace(label_selector=sel).metadata.resource_version
    n1 = core.create_namespace({"metadata": {"name": "py-ns-a",
                                             "labels": {"suite": "py-ns"}}})
    check_eq("namespace phase", n1.status.phase, "Active")
    check_eq("namespace name label",
             n1.metadata.labels.get("kubernetes.io/metadata.name"), "py-ns-a")
    expect_error("namespace exists", 409, "AlreadyExists",
                 r'^namespaces "py-ns-a" already exists$',
                 core.create_namespace, {"metadata": {"name": "py-ns-a"}})
    expect_error("namespace missing", 404, "NotFound",
                 r'^namespaces "py-ns-nope" not found$',
                 core.read_namespace, "py-ns-nope")
    body = expect_error("namespace invalid name", 422, "Invalid",
                        r'^Namespace "Bad_Name" is invalid: metadata\.name: '
                        r'Invalid value: "Bad_Name"',
                        core.create_namespace,
                        {"metadata": {"name": "Bad_Name"}})
    if body:
        check_eq("invalid name cause", [c.get("field") for c in
                                        body["details"].get("causes", [])],
                 ["metadata.name"])
    g = core.create_namespace({"metadata": {"generateName": "py-ns-",
                                            "labels": {"suite": "py-ns"}}})
    check_match("namespace generateName", g.metadata.name,
                r"^py-ns-[a-z0-9]{5}$")
    n1.metadata.labels["tier"] = "one"
    r = core.replace_namespace("py-ns-a", n1)
    check_eq("namespace replace", r.metadata.labels.get("tier"), "one")
    r = core.patch_namespace("py-ns-a", [{"op": "add",
                                          "path": "/metadata/labels/p",
                                          "value": "json"}])
    check_eq("namespace JSON patch", r.metadata.labels.get("p"), "json")
    r = merge_patch("/api/v1/namespaces/py-ns-a",
                    {"metadata": {"annotations": {"m": "merge"}}},
                    "V1Namespace")
    check_eq("namespace merge patch", r.metadata.annotations, {"m": "merge"})
    expect_error("namespace stale replace", 409, "Conflict",
                 "^" + re.escape(CONFLICT_MSG % ("namespaces", "py-ns-a")),
                 core.replace_namespace, "py-ns-a", n1)
    check_eq("namespace list -l", names(core.list_namespace(
        label_selector=sel + ",tier=one")), ["py-ns-a"])
    check_eq("namespace list --field-selector", names(core.list_namespace(
        field_selector="metadata.name=py-ns-a")), ["py-ns-a"])
    check_eq("namespace list -l ... --field-selector status.phase",
             names(core.list_namespace(label_selector=sel,
                                       field_selector="status.phase=Active")),
             sorted(["py-ns-a", g.metadata.name]))

    # Deleting a namespace with content: Terminating until the content
    # (held by a finalizer here) is gone, no new content meanwhile.
    core.create_namespaced_config_map("py-ns-a", {
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    core.create_namespaced_config_map("py-ns-a", {"metadata": {"name": "free"}})
    w = Watcher(core.list_namespace, label_selector=sel, resource_version=rv0,
                until=lambda evs: any(e["type"] == "DELETED" and
                                      e["raw_object"]["metadata"]["name"] ==
                                      "py-ns-a" for e in evs))
    d = raw(core.delete_namespace, "py-ns-a")
    check_eq("delete namespace answers Terminating",
             dig(d, ["status", "phase"]), "Terminating")
    check_match("delete namespace sets deletionTimestamp",
                dig(d, ["metadata", "deletionTimestamp"]), TIME_RE)
    check_eq("terminating namespace readable",
             core.read_namespace("py-ns-a").status.phase, "Terminating")
    expect_error("create in a terminating namespace", 403, "Forbidden",
                 r'^configmaps "x" is forbidden: unable to create new '
                 r'content in namespace py-ns-a because it is being '
                 r'terminated$',
                 core.create_namespaced_config_map, "py-ns-a",
                 {"metadata": {"name": "x"}})
    wait_until("namespace content without finalizers is deleted",
               lambda: gone(core.read_namespaced_config_map, "free",
                            "py-ns-a"))
    wait_until("namespace content with finalizers is marked",
               lambda: core.read_namespaced_config_map(
                   "held", "py-ns-a").metadata.deletion_timestamp)
    check_eq("namespace waits for its content",
             core.read_namespace("py-ns-a").status.phase, "Terminating")
    core.patch_namespaced_config_map("held", "py-ns-a", [
        {"op": "remove", "path": "/metadata/finalizers"}])
    wait_until("namespace deleted once empty",
               lambda: gone(core.read_namespace, "py-ns-a"))
    w.wait(w.until)
    got = [(e["type"], e["raw_object"]["metadata"]["name"],
            dig(e["raw_object"], ["status", "phase"])) for e in w.events
           if e["raw_object"]["metadata"]["name"] == "py-ns-a"]
    check("namespace watch: ADDED, changes, Terminating, DELETED",
          len(got) >= 3 and got[0] == ("ADDED", "py-ns-a", "Active") and
          ("MODIFIED", "py-ns-a", "Terminating") in got and
          got[-1][0] == "DELETED", repr(got))
    core.delete_namespace(g.metadata.name)
    wait_until("empty namespace deleted",
               lambda: gone(core.read_namespace, g.metadata.name))


# --- pods: validation, binding, status --------------------------------------

with section("pods"):
    ns = "py-pods-x"
    core.create_namespace({"metadata": {"name": ns}})
    body = expect_error("pod without image", 422, "Invalid",
                        r'^Pod "noimage" is invalid: '
                        r'spec\.containers\[0\]\.image: Required value',
                        core.create_namespaced_pod, ns,
                        {"metadata": {"name": "noimage"},
                         "spec": {"containers": [{"name": "c"}]}})
    if body:
        check_eq("pod without image: cause", [
            (c.get("reason"), c.get("field"))
            for c in body["details"].get("causes", [])],
            [("FieldValueRequired", "spec.containers[0].image")])
        check_eq("pod without image: details",
                 (body["details"].get("name"), body["details"].get("kind")),
                 ("noimage", "Pod"))
    expect_error("pod without containers", 422, "Invalid",
                 r'^Pod "empty" is invalid: spec\.containers: Required value',
                 core.create_namespaced_pod, ns,
                 {"metadata": {"name": "empty"}, "spec": {"containers": []}})
    expect_error("pod with a bad name", 422, "Invalid",
                 r'^Pod "Bad\.Pod" is invalid: metadata\.name: Invalid value',
                 core.create_namespaced_pod, ns,
                 {"metadata": {"name": "Bad.Pod"}, "spec": pod_spec()})
    check_eq("invalid pods were not stored", names(
        core.list_namespaced_pod(ns)), [])

    core.create_node({"metadata": {"name": "py-edge-1"}})
    p = core.create_namespaced_pod(ns, {"metadata": {"name": "p1"},
                                        "spec": pod_spec()})
    core.create_namespaced_pod(ns, {"metadata": {"name": "p2"},
                                    "spec": pod_spec()})
    check_eq("new pod is Pending", p.status.phase, "Pending")
    check_eq("new pod is not scheduled", p.spec.node_name, None)
    binding = client.V1Binding(
        metadata=client.V1ObjectMeta(name="p1"),
        target=client.V1ObjectReference(kind="Node", name="py-edge-1"))
    r = core.create_namespaced_pod_binding("p1", ns, binding,
                                           _preload_content=False)
    check_eq("binding answers 201", r.status, 201)
    check_eq("binding answers a Success Status",
             json.loads(r.data).get("status"), "Success")
    p = core.read_namespaced_pod("p1", ns)
    check_eq("binding sets spec.nodeName", p.spec.node_name, "py-edge-1")
    expect_error("binding a bound pod", 409, "Conflict",
                 r'^Operation cannot be fulfilled on pods/binding "p1": '
                 r'pod p1 is already assigned to node "py-edge-1"$',
                 core.create_namespaced_pod_binding, "p1", ns, binding)
    expect_error("binding a missing pod", 404, "NotFound",
                 r'^pods "nope" not found$',
                 core.create_namespaced_pod_binding, "nope", ns,
                 client.V1Binding(metadata=client.V1ObjectMeta(name="nope"),
                                  target=binding.target))
    check_eq("--field-selector spec.nodeName", names(core.list_namespaced_pod(
        ns, field_selector="spec.nodeName=py-edge-1")), ["p1"])
    check_eq("--field-selector spec.nodeName= (unscheduled)",
             names(core.list_namespaced_pod(ns,
                                            field_selector="spec.nodeName=")),
             ["p2"])
    check_eq("all pods across namespaces on the node", names(
        core.list_pod_for_all_namespaces(
            field_selector="spec.nodeName=py-edge-1")), ["p1"])

    # The status subresource changes only status; a main replace only
    # the rest.
    p = core.read_namespaced_pod("p1", ns)
    p.status.phase = "Running"
    p.status.pod_ip = "10.244.0.5"
    p.spec.containers[0].image = "changed-by-status:1"
    p.metadata.labels = {"via": "status"}
    r = core.replace_namespaced_pod_status("p1", ns, p)
    check_eq("status replace sets status", (r.status.phase, r.status.pod_ip),
             ("Running", "10.244.0.5"))
    check_eq("status replace ignores spec", r.spec.containers[0].image,
             "busybox:1.36")
    check("status replace bumps resourceVersion",
          int(r.metadata.resource_version) > int(p.metadata.resource_version))
    p = core.read_namespaced_pod("p1", ns)
    check_eq("status replace stored", (p.status.phase,
                                       p.spec.containers[0].image),
             ("Running", "busybox:1.36"))
    p.status.phase = "Failed"
    p.metadata.labels = {"via": "main"}
    r = core.replace_namespaced_pod("p1", ns, p)
    check_eq("main replace ignores status", r.status.phase, "Running")
    check_eq("main replace sets labels", r.metadata.labels, {"via": "main"})
    r = core.patch_namespaced_pod_status("p1", ns, [
        {"op": "replace", "path": "/status/phase", "value": "Succeeded"}])
    check_eq("status JSON patch", r.status.phase, "Succeeded")
    r = merge_patch("/api/v1/namespaces/%s/pods/p1/status" % ns,
                    {"status": {"message": "merged"}}, "V1Pod")
    check_eq("status merge patch", (r.status.phase, r.status.message),
             ("Succeeded", "merged"))
    check_eq("--field-selector status.phase", names(core.list_namespaced_pod(
        ns, field_selector="status.phase=Succeeded")), ["p1"])
    check_eq("--field-selector status.phase!=", names(core.list_namespaced_pod(
        ns, field_selector="status.phase!=Succeeded")), ["p2"])
    r = core.read_namespaced_pod_status("p1", ns)
    check_eq("read status", r.status.message, "merged")
    expect_error("spec.nodeName cannot change by update", 422, "Invalid",
                 r'^Pod "p1" is invalid: spec: Forbidden: pod updates',
                 core.patch_namespaced_pod, "p1", ns,
                 [{"op": "replace", "path": "/spec/nodeName",
                   "value": "elsewhere"}])
    core.delete_namespaced_pod("p1", ns, grace_period_seconds=0)
    core.delete_collection_namespaced_pod(ns)
    wait_until("pods deleted", lambda: names(core.list_namespaced_pod(ns))
               == [])
    core.delete_node("py-edge-1")


# --- deployments: validation, generation, status, scale ---------------------

with section("deployments"):
    ns = "py-deploy-x"
    core.create_namespace({"metadata": {"name": ns}})
    bad = workload({"app": "web"})
    bad["spec"]["selector"]["matchLabels"] = {"app": "other"}
    bad["metadata"] = {"name": "bad"}
    body = expect_error("selector does not match template", 422, "Invalid",
                        r'^Deployment\.apps "bad" is invalid: '
                        r'spec\.template\.metadata\.labels: Invalid value: .*'
                        r'`selector` does not match template `labels`',
                        apps.create_namespaced_deployment, ns, bad)
    if body:
        check_eq("selector mismatch: cause field",
                 [c.get("field") for c in body["details"].get("causes", [])],
                 ["spec.template.metadata.labels"])
        check_eq("selector mismatch: details group/kind",
                 (body["details"].get("group"), body["details"].get("kind")),
                 ("apps", "Deployment"))
    neg = workload({"app": "web"}, {"replicas": -1})
    neg["metadata"] = {"name": "neg"}
    expect_error("negative replicas", 422, "Invalid",
                 r'spec\.replicas: Invalid value: -1: must be greater than '
                 r'or equal to 0', apps.create_namespaced_deployment, ns, neg)
    check_eq("invalid deployments were not stored", names(
        apps.list_namespaced_deployment(ns)), [])

    dep = workload({"app": "web"}, {"replicas": 2})
    dep["metadata"] = {"name": "web", "labels": {"app": "web"}}
    d = apps.create_namespaced_deployment(ns, dep)
    check_eq("created generation", d.metadata.generation, 1)

    def gen():
        return apps.read_namespaced_deployment("web", ns).metadata.generation

    d.metadata.labels["tier"] = "front"
    d = apps.replace_namespaced_deployment("web", ns, d)
    check_eq("label-only replace keeps generation", d.metadata.generation, 1)
    d.spec.template.spec.containers[0].image = "busybox:1.37"
    d = apps.replace_namespaced_deployment("web", ns, d)
    check_eq("spec replace bumps generation", d.metadata.generation, 2)
    d = apps.replace_namespaced_deployment("web", ns, d)
    check_eq("an unchanged replace keeps generation", gen(), 2)
    d = apps.patch_namespaced_deployment("web", ns, [
        {"op": "replace", "path": "/spec/replicas", "value": 3}])
    check_eq("spec JSON patch bumps generation", d.metadata.generation, 3)

    # Status subresource: only status changes, generation stays.
    d.status = client.V1DeploymentStatus(replicas=3, ready_replicas=1,
                                         observed_generation=3)
    d.spec.replicas = 9
    rv = d.metadata.resource_version
    r = apps.replace_namespaced_deployment_status("web", ns, d)
    check_eq("status replace: spec unchanged", r.spec.replicas, 3)
    check_eq("status replace: status set",
             (r.status.replicas, r.status.ready_replicas,
              r.status.observed_generation), (3, 1, 3))
    check_eq("status replace: generation unchanged", r.metadata.generation, 3)
    check("status replace bumps resourceVersion",
          int(r.metadata.resource_version) > int(rv))
    expect_error("stale status replace", 409, "Conflict",
                 "^" + re.escape(CONFLICT_MSG % ("deployments.apps", "web")),
                 apps.replace_namespaced_deployment_status, "web", ns, d)
    d = apps.read_namespaced_deployment("web", ns)
    d.status.replicas = 7
    d.metadata.annotations = {"a": "b"}
    r = apps.replace_namespaced_deployment("web", ns, d)
    check_eq("main replace ignores status", r.status.replicas, 3)
    check_eq("main replace applies metadata", r.metadata.annotations,
             {"a": "b"})
    r = apps.patch_namespaced_deployment_status("web", ns, [
        {"op": "replace", "path": "/status/readyReplicas", "value": 2}])
    check_eq("status JSON patch", r.status.ready_replicas, 2)
    check_eq("read_namespaced_deployment_status", apps.
             read_namespaced_deployment_status("web", ns).status.ready_replicas,
             2)

    # Scale subresource.
    s = apps.read_namespaced_deployment_scale("web", ns)
    check_eq("scale kind", (s.api_version, s.kind), ("autoscaling/v1", "Scale"))
    check_eq("scale spec.replicas", s.spec.replicas, 3)
    check_eq("scale status", (s.status.replicas, s.status.selector),
             (3, "app=web"))
    s = apps.patch_namespaced_deployment_scale("web", ns, [
        {"op": "replace", "path": "/spec/replicas", "value": 5}])
    check_eq("scale JSON patch answer", s.spec.replicas, 5)
    d = apps.read_namespaced_deployment("web", ns)
    check_eq("scale JSON patch sets replicas and generation",
             (d.spec.replicas, d.metadata.generation), (5, 4))
    s = apps.patch_namespaced_deployment_scale("web", ns,
                                               {"spec": {"replicas": 5}})
    check_eq("scale strategic merge patch", s.spec.replicas, 5)
    s = merge_patch("/apis/apps/v1/namespaces/%s/deployments/web/scale" % ns,
                    {"spec": {"replicas": 4}}, "V1Scale")
    check_eq("scale merge patch", s.spec.replicas, 4)
    s = apps.read_namespaced_deployment_scale("web", ns)
    s.spec.replicas = 1
    r = apps.replace_namespaced_deployment_scale("web", ns, s)
    check_eq("scale replace", r.spec.replicas, 1)
    check_eq("scale replace reaches the deployment",
             apps.read_namespaced_deployment("web", ns).spec.replicas, 1)
    s.spec.replicas = 6  # s still has the resourceVersion before the replace
    expect_error("stale scale replace", 409, "Conflict",
                 "^" + re.escape(CONFLICT_MSG % ("deployments.apps", "web")),
                 apps.replace_namespaced_deployment_scale, "web", ns, s)
    check_eq("stale scale replace changed nothing",
             apps.read_namespaced_deployment("web", ns).spec.replicas, 1)
    expect_error("negative scale", 422, "Invalid",
                 r'spec\.replicas: Invalid value: -2: must be greater than '
                 r'or equal to 0', apps.patch_namespaced_deployment_scale,
                 "web", ns, [{"op": "replace", "path": "/spec/replicas",
                              "value": -2}])
    expect_error("scale of a missing deployment", 404, "NotFound",
                 r'^deployments\.apps "nope" not found$',
                 apps.read_namespaced_deployment_scale, "nope", ns)

    # ReplicaSets and StatefulSets scale the same way.
    for kind, create, scale in (
            ("replicaset", apps.create_namespaced_replica_set,
             apps.patch_namespaced_replica_set_scale),
            ("statefulset", apps.create_namespaced_stateful_set,
             apps.patch_namespaced_stateful_set_scale)):
        o = workload({"app": kind}, {"serviceName": kind}
                     if kind == "statefulset" else None)
        o["metadata"] = {"name": kind}
        raw(create, ns, o)
        s = scale(kind, ns, [{"op": "replace", "path": "/spec/replicas",
                              "value": 3}])
        check_eq("%s scale" % kind, (s.spec.replicas, s.status.selector),
                 (3, "app=" + kind))
        obj = raw(getattr(apps, create.__name__.replace("create", "read")),
                  kind, ns)
        check_eq("%s scaled" % kind, (obj["spec"]["replicas"],
                                      obj["metadata"]["generation"]), (3, 2))
    apps.delete_collection_namespaced_deployment(ns)
    check_eq("deployments deleted", names(
        apps.list_namespaced_deployment(ns)), [])


# --- finalizers, preconditions, conflicts -----------------------------------

with section("finalizers and preconditions"):
    ns = "py-final"
    core.create_namespace({"metadata": {"name": ns}})
    rv0 = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
        "data": {"a": "1"}})
    d = raw(core.delete_namespaced_config_map, "held", ns)
    check_match("delete answers with deletionTimestamp",
                dig(d, ["metadata", "deletionTimestamp"]), TIME_RE)
    c = core.read_namespaced_config_map("held", ns)
    check("held object still readable", c.metadata.deletion_timestamp
          is not None)
    check_eq("held object keeps its finalizer", c.metadata.finalizers,
             ["example.com/hold"])
    check_eq("held object listed", names(core.list_namespaced_config_map(ns)),
             ["held"])
    d2 = raw(core.delete_namespaced_config_map, "held", ns)
    check_eq("a second delete keeps the deletionTimestamp",
             dig(d2, ["metadata", "deletionTimestamp"]),
             dig(d, ["metadata", "deletionTimestamp"]))
    check_eq("a second delete is not a write",
             dig(d2, ["metadata", "resourceVersion"]),
             dig(d, ["metadata", "resourceVersion"]))
    c = core.patch_namespaced_config_map("held", ns, [
        {"op": "replace", "path": "/data/a", "value": "2"}])
    check_eq("a terminating object can still be updated", c.data, {"a": "2"})
    added = expect_error(
        "no new finalizers while terminating", 422, "Invalid",
        r'^ConfigMap "held" is invalid: metadata\.finalizers: Forbidden: no '
        r'new finalizers can be added if the object is being deleted, found '
        r'new finalizers \[\]string\{"example\.com/other"\}$',
        core.patch_namespaced_config_map, "held", ns,
        [{"op": "add", "path": "/metadata/finalizers/-",
          "value": "example.com/other"}]) is None
    # An update never removes the deletionTimestamp (Kubernetes keeps the
    # old one and, as nothing else changed, writes nothing).
    c = core.patch_namespaced_config_map("held", ns, [
        {"op": "remove", "path": "/metadata/deletionTimestamp"}])
    check_eq("deletionTimestamp survives an update",
             c.metadata.deletion_timestamp and
             c.metadata.deletion_timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
             dig(d, ["metadata", "deletionTimestamp"]))
    core.patch_namespaced_config_map("held", ns, [
        {"op": "remove", "path": "/metadata/finalizers"}])
    expect_error("gone once the finalizer is removed", 404, "NotFound",
                 r'^configmaps "held" not found$',
                 core.read_namespaced_config_map, "held", ns)
    w = Watcher(core.list_namespaced_config_map, ns, resource_version=rv0,
                timeout_seconds=10,
                until=lambda evs: evs and evs[-1]["type"] == "DELETED")
    w.wait(w.until)
    # (The DELETED object is the last state; whether it still lists the
    # released finalizer differs between servers, so it is not compared.)
    got = [(e["type"], bool(e["raw_object"]["metadata"].get(
        "deletionTimestamp")), e["raw_object"]["metadata"].get("finalizers")
        if e["type"] != "DELETED" else None) for e in w.events]
    want = [("ADDED", False, ["example.com/hold"]),
            ("MODIFIED", True, ["example.com/hold"]),
            ("MODIFIED", True, ["example.com/hold"]),
            ("DELETED", True, None)]
    if added:  # reported above; the watch shows it too
        want.insert(3, ("MODIFIED", True, ["example.com/hold",
                                           "example.com/other"]))
    check_eq("finalizer watch", got, want)

    # Preconditions and conflicts.
    c = core.create_namespaced_config_map(ns, {"metadata": {"name": "pre"},
                                               "data": {"a": "1"}})
    old_rv = c.metadata.resource_version
    c2 = core.patch_namespaced_config_map("pre", ns, [
        {"op": "add", "path": "/data/b", "value": "2"}])
    expect_error("delete with a stale resourceVersion precondition", 409,
                 "Conflict",
                 r'^Operation cannot be fulfilled on ConfigMap "pre": the '
                 r'ResourceVersion in the precondition \(%s\) does not match '
                 r'the ResourceVersion in record \(%s\)\. The object might '
                 r'have been modified$'
                 % (old_rv, c2.metadata.resource_version),
                 core.delete_namespaced_config_map, "pre", ns,
                 body=client.V1DeleteOptions(preconditions=client.
                                             V1Preconditions(
                                                 resource_version=old_rv)))
    expect_error("delete with a wrong uid precondition", 409, "Conflict",
                 r'^Operation cannot be fulfilled on ConfigMap "pre": the UID '
                 r'in the precondition \(00000000-0000-0000-0000-000000000000\)'
                 r' does not match the UID in record \(' + c.metadata.uid +
                 r'\)\. The object might have been deleted and then '
                 r'recreated$',
                 core.delete_namespaced_config_map, "pre", ns,
                 body=client.V1DeleteOptions(preconditions=client.
                                             V1Preconditions(
                                                 uid="00000000-0000-0000-"
                                                 "0000-000000000000")))
    expect_error("merge patch with a stale resourceVersion", 409, "Conflict",
                 "^" + re.escape(CONFLICT_MSG % ("configmaps", "pre")) + "$",
                 merge_patch, "/api/v1/namespaces/%s/configmaps/pre" % ns,
                 {"metadata": {"resourceVersion": old_rv},
                  "data": {"c": "3"}}, "V1ConfigMap")
    expect_error("JSON patch test op fails", 422, None, r"test",
                 core.patch_namespaced_config_map, "pre", ns,
                 [{"op": "test", "path": "/data/a", "value": "nope"}])
    expect_error("replace with a different name", 400, "BadRequest",
                 r"does not match", core.replace_namespaced_config_map,
                 "pre", ns, {"metadata": {"name": "other"}})
    body = core.read_namespaced_config_map("pre", ns)
    body.metadata.resource_version = None
    body.data = {"only": "this"}
    r = core.replace_namespaced_config_map("pre", ns, body)
    check_eq("replace without resourceVersion is unconditional", r.data,
             {"only": "this"})
    core.delete_namespaced_config_map("pre", ns, body=client.V1DeleteOptions(
        preconditions=client.V1Preconditions(
            uid=c.metadata.uid, resource_version=r.metadata.resource_version)))
    check_eq("delete with matching preconditions", names(
        core.list_namespaced_config_map(ns)), [])


# --- secrets, events in both APIs -------------------------------------------

with section("secrets and events"):
    ns = "py-misc"
    core.create_namespace({"metadata": {"name": ns}})
    s = core.create_namespaced_secret(ns, {"metadata": {"name": "s"},
                                           "stringData": {"pw": "s3cret"}})
    check_eq("stringData becomes data", s.data,
             {"pw": base64.b64encode(b"s3cret").decode()})
    check_eq("secret type defaults to Opaque", s.type, "Opaque")
    check_eq("stringData is not stored", raw(core.read_namespaced_secret, "s",
                                             ns).get("stringData"), None)
    # Kubernetes answers 400 (the body does not decode), kedge 422 naming
    # the field; both tell the user what is wrong.
    try:
        core.create_namespaced_secret(ns, {"metadata": {"name": "bad"},
                                           "data": {"k": "%%%"}})
        fail("secret data that is not base64 was accepted")
    except ApiException as e:
        check("secret data must be base64: status %d" % e.status,
              e.status in (400, 422))
        check_match("secret data must be base64: message",
                    json.loads(e.body).get("message"),
                    r"illegal base64 data at input byte 0")

    e1 = events_api.create_namespaced_event(ns, {
        "metadata": {"name": "e1"}, "eventTime": EVENT_TIME,
        "reportingController": "example.com/e2e", "reportingInstance": "i1",
        "action": "Pull", "reason": "Pulled", "note": "pulled busybox",
        "type": "Normal",
        "regarding": {"kind": "Pod", "name": "web", "namespace": ns,
                      "uid": "11111111-2222-3333-4444-555555555555"}})
    check_eq("events.k8s.io event created", e1.note, "pulled busybox")
    ce = core.read_namespaced_event("e1", ns)
    check_eq("events.k8s.io event as a core event",
             (ce.involved_object.name, ce.involved_object.kind, ce.message,
              ce.reason, ce.type),
             ("web", "Pod", "pulled busybox", "Pulled", "Normal"))
    core.create_namespaced_event(ns, {
        "metadata": {"name": "e2"},
        "involvedObject": {"kind": "Pod", "name": "db", "namespace": ns},
        "reason": "Failed", "message": "boom", "type": "Warning",
        "source": {"component": "e2e"}, "count": 1})
    for sel, want in (("involvedObject.name=web", ["e1"]),
                      ("involvedObject.name=db,involvedObject.namespace=" + ns,
                       ["e2"]),
                      ("involvedObject.uid=11111111-2222-3333-4444-"
                       "555555555555", ["e1"]),
                      ("involvedObject.kind=Pod", ["e1", "e2"]),
                      ("reason=Failed", ["e2"]), ("type=Warning", ["e2"])):
        check_eq("core events --field-selector %s" % sel, names(
            core.list_namespaced_event(ns, field_selector=sel)), want)
    ev = raw(events_api.list_namespaced_event, ns)
    check_eq("core event seen in events.k8s.io", sorted(
        (i["metadata"]["name"], i.get("note"), dig(i, ["regarding", "name"]))
        for i in ev["items"]),
        [("e1", "pulled busybox", "web"), ("e2", "boom", "db")])
    check_eq("events.k8s.io --field-selector regarding.name", [
        i["metadata"]["name"] for i in raw(
            events_api.list_namespaced_event, ns,
            field_selector="regarding.name=db")["items"]], ["e2"])
    expect_error("events.k8s.io event without reportingController", 422,
                 "Invalid", r"reportingController",
                 events_api.create_namespaced_event, ns,
                 {"metadata": {"name": "e3"}, "eventTime": EVENT_TIME,
                  "reportingInstance": "i", "action": "A", "reason": "R",
                  "type": "Normal",
                  "regarding": {"kind": "Pod", "name": "x",
                                "namespace": ns}})


# --- paging is a snapshot; watch history and 410 ----------------------------

with section("paging snapshot"):
    ns = "py-paging"
    core.create_namespace({"metadata": {"name": ns}})
    for n in "abcde":
        core.create_namespaced_config_map(ns, {"metadata": {"name": n}})
    first = core.list_namespaced_config_map(ns, limit=2)
    check_eq("first page", names(first), ["a", "b"])
    core.create_namespaced_config_map(ns, {"metadata": {"name": "f"}})
    core.delete_namespaced_config_map("d", ns)
    rest = core.list_namespaced_config_map(ns, limit=10,
                                           _continue=first.metadata._continue)
    # "the server guarantees that the objects returned when using continue
    # will be identical to issuing a single list call without a limit"
    check_eq("continued pages show the first page's snapshot", names(rest),
             ["c", "d", "e"])
    check_eq("continued pages keep the first page's resourceVersion",
             rest.metadata.resource_version, first.metadata.resource_version)
    check_eq("a new list sees the writes", names(
        core.list_namespaced_config_map(ns)), ["a", "b", "c", "e", "f"])

with section("watch timeout and expiry"):
    ns = "py-paging"
    t0 = time.monotonic()
    evs = list(watch.Watch().stream(core.list_namespaced_config_map, ns,
                                    resource_version=core.
                                    list_namespaced_config_map(ns).metadata.
                                    resource_version,
                                    timeout_seconds=2, _request_timeout=30))
    took = time.monotonic() - t0
    check_eq("quiet watch sends nothing", evs, [])
    check("watch honours timeout_seconds (took %.1fs)" % took,
          1.5 <= took < 10)

    small = Cloud(args=["--watch-window", "5"]).start()
    api_client = config.new_client_from_config(config_file=small.kubeconfig)
    c2 = client.CoreV1Api(api_client)
    first_rv = c2.list_namespaced_config_map(
        "default").metadata.resource_version
    for i in range(12):
        c2.create_namespaced_config_map("default",
                                        {"metadata": {"name": "w%d" % i}})
    w = watch.Watch()
    w._api_client = api_client
    try:
        got = list(w.stream(c2.list_namespaced_config_map, "default",
                            resource_version=first_rv, timeout_seconds=5,
                            _request_timeout=30))
        fail("watch from a resourceVersion older than the window: got %d "
             "events, want 410" % len(got))
    except ApiException as e:
        check_eq("too old resourceVersion: status", e.status, 410)
        check_match("too old resourceVersion: reason", e.reason,
                    r"^Expired: too old resource version: %s" % first_rv)
    last = c2.list_namespaced_config_map("default")
    check_eq("the store still has everything", len(last.items), 12)
    rv_recent = c2.read_namespaced_config_map("w9", "default").metadata.\
        resource_version
    got = list(w.stream(c2.list_namespaced_config_map, "default",
                        resource_version=rv_recent, timeout_seconds=1,
                        _request_timeout=30))
    check_eq("a watch inside the window replays", [
        (e["type"], e["object"].metadata.name) for e in got],
        [("ADDED", "w10"), ("ADDED", "w11")])
    check_eq("small cloud stops on SIGTERM", small.stop(), 0)

check_eq("cloud stops on SIGTERM", cloud.stop(), 0)
finish()
