#!/usr/bin/python3
"""CloudHub from the outside, speaking docs/protocol.md with plain tools:
join tokens, the join endpoint (its errors), a node session over WSS
(snapshot, live routing of only the node's objects, resume from a
revision), requests as the node with node authorization, lease renewal."""

import json
import os
import ssl
import subprocess
import time
import urllib.request

import websocket

from kedge_e2e import (KEDGE_BIN, Cloud, check, check_eq, check_match, finish,
                       section, tmpdir)

cloud = Cloud().start()
data = cloud.data_dir
work = tmpdir()


def kubectl(*args, stdin=None):
    return subprocess.run(["kubectl", "--kubeconfig", cloud.kubeconfig] +
                          list(args), input=stdin, capture_output=True,
                          text=True, timeout=60)


def configmap(name, value):
    """kubectl create configmap sends protobuf (not accepted yet): apply."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": name, "namespace": "default"},
          "data": {"k": value}}
    r = kubectl("apply", "-f", "-", stdin=json.dumps(cm))
    check_eq("configmap %s applied" % name, r.returncode, 0)


def token(*extra):
    r = subprocess.run([KEDGE_BIN, "token", "create", "--data-dir", data] +
                       list(extra), capture_output=True, text=True, timeout=30)
    check_eq("token create exit status", r.returncode, 0)
    return r.stdout.strip()


def post_join(body):
    ctx = ssl.create_default_context(cafile=os.path.join(data, "pki", "ca.crt"))
    req = urllib.request.Request(cloud.hub_url + "/join",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def make_csr(node):
    key = os.path.join(work, node + ".key")
    csr = os.path.join(work, node + ".csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", csr, "-subj", "/CN=whatever"], check=True,
                   capture_output=True)
    return key, open(csr).read()


def join(node, tok):
    key, csr = make_csr(node)
    code, ans = post_join({"token": tok, "node": node, "csr": csr})
    check_eq("join of %s" % node, code, 200)
    crt = os.path.join(work, node + ".crt")
    with open(crt, "w") as f:
        f.write(ans.get("certificate", ""))
    return crt, key


class Session:
    def __init__(self, node, crt, key, rev=0):
        self.node = node
        self.ws = websocket.create_connection(
            cloud.hub_url.replace("https://", "wss://") + "/hub",
            sslopt={"certfile": crt, "keyfile": key,
                    "ca_certs": os.path.join(data, "pki", "ca.crt")},
            timeout=30)
        self.id = 0
        self.backlog = []  # received, not yet looked at by until()
        self.send({"type": "hello", "node": node, "rev": rev})

    def send(self, m):
        self.ws.send(json.dumps(m))

    def recv(self, timeout=30):
        self.ws.settimeout(timeout)
        return json.loads(self.ws.recv())

    def until(self, pred, what, timeout=30):
        """Messages until pred(m) holds; returns (matching, all seen)."""
        seen = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.backlog:
                m = self.backlog.pop(0)
            else:
                try:
                    m = self.recv(max(0.1, end - time.monotonic()))
                except websocket.WebSocketTimeoutException:
                    break
            seen.append(m)
            if pred(m):
                return m, seen
        check(what, False, "seen: %s" % [x.get("type") + " " + x.get("key", "")
                                         for x in seen])
        return None, seen

    def request(self, method, path, body=None, ctype=None):
        self.id += 1
        m = {"type": "request", "id": self.id, "method": method, "path": path}
        if body is not None:
            m["body"] = body
        if ctype:
            m["contentType"] = ctype
        self.send(m)
        r, seen = self.until(lambda x: x.get("type") == "response" and
                             x.get("id") == self.id, "response %d" % self.id)
        # Whatever came before the answer is kept for later until()s.
        self.backlog = [x for x in seen if x is not r] + self.backlog
        return r or {}


with section("tokens"):
    t1 = token("--description", "e2e")
    check_match("token shape", t1, r"^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}$")
    out = subprocess.run([KEDGE_BIN, "token", "list", "--data-dir", data],
                         capture_output=True, text=True).stdout
    check_match("token list", out, t1.split("::")[1][:6] + r" .* e2e")
    t2 = token("--ttl", "1h")
    r = subprocess.run([KEDGE_BIN, "token", "delete", t2.split("::")[1][:6],
                        "--data-dir", data], capture_output=True, text=True)
    check_eq("token delete", r.returncode, 0)

with section("join errors"):
    key, csr = make_csr("x")
    code, ans = post_join({"token": t2, "node": "x", "csr": csr})
    check_eq("revoked token: code", code, 401)
    check_match("revoked token: message", ans.get("error", ""), "unknown token id")
    bad = t1[:-1] + ("a" if t1[-1] != "a" else "b")
    code, ans = post_join({"token": bad, "node": "x", "csr": csr})
    check_eq("wrong secret", (code, ans.get("error")),
             (401, "the token's secret is wrong"))
    other = "K10" + "0" * 64 + t1[67:]
    code, ans = post_join({"token": other, "node": "x", "csr": csr})
    check_match("other cluster's token", ans.get("error", ""), "another cluster")
    code, ans = post_join({"token": t1, "node": "Bad_Name", "csr": csr})
    check_eq("bad node name", code, 400)
    code, ans = post_join({"token": t1, "node": "x", "csr": "junk"})
    check_eq("bad csr", code, 400)
    code, ans = post_join({"token": t1})
    check_match("missing fields", ans.get("error", ""), "lacks node")

with section("session: snapshot and live routing"):
    crt_a, key_a = join("edge-a", t1)
    crt_b, key_b = join("edge-b", t1)
    configmap("cfg-a", "a")
    configmap("cfg-other", "o")
    a = Session("edge-a", crt_a, key_a)
    w, _ = a.until(lambda m: m.get("type") == "welcome", "welcome")
    check_eq("first hello gets a snapshot", w and w.get("snapshot"), True)
    end, seen = a.until(lambda m: m.get("type") == "snapshot-end", "snapshot end")
    # The node registers itself through a request.
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "edge-a",
                         "annotations": {"kedge.io/joined-at": "now"}}}
    r = a.request("POST", "/api/v1/nodes", node)
    check_eq("node creates its own Node", r.get("code"), 201)
    m, _ = a.until(lambda m: m.get("type") == "put" and
                   m.get("key") == "/registry/core/nodes/edge-a",
                   "its Node comes back as a put")
    r = a.request("POST", "/api/v1/nodes",
                  {"apiVersion": "v1", "kind": "Node",
                   "metadata": {"name": "edge-z"}})
    check_eq("node cannot create another Node", r.get("code"), 403)
    check_match("forbidden message", r.get("body", {}).get("message", ""),
                "User \"system:node:edge-a\" cannot create resource \"nodes\"")
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p1", "namespace": "default"},
           "spec": {"nodeName": "edge-a",
                    "containers": [{"name": "c", "image": "busybox",
                                    "envFrom": [{"configMapRef":
                                                 {"name": "cfg-a"}}]}]}}
    kubectl("apply", "-f", "-", stdin=json.dumps(pod))
    m, seen = a.until(lambda m: m.get("key") == "/registry/core/pods/default/p1",
                      "the bound pod reaches its node")
    keys = [x.get("key") for x in seen if x.get("type") == "put"]
    check("the referenced configmap comes first",
          "/registry/core/configmaps/default/cfg-a" in keys, str(keys))
    check("the pod's namespace comes too",
          "/registry/core/namespaces/default" in keys, str(keys))
    check("an unreferenced configmap does not come",
          "/registry/core/configmaps/default/cfg-other" not in keys, str(keys))
    r = a.request("GET", "/api/v1/namespaces/default/configmaps/cfg-a")
    check_eq("node reads a referenced configmap", r.get("code"), 200)
    r = a.request("GET", "/api/v1/namespaces/default/configmaps/cfg-other")
    check_eq("node cannot read an unreferenced configmap", r.get("code"), 403)
    r = a.request("PATCH", "/api/v1/namespaces/default/pods/p1/status",
                  {"status": {"phase": "Running"}},
                  "application/merge-patch+json")
    check_eq("node updates its pod's status", r.get("code"), 200)
    phase = kubectl("get", "pod", "p1", "-o", "jsonpath={.status.phase}").stdout
    check_eq("status visible in the cloud", phase, "Running")
    configmap("cfg-b", "b")
    podb = dict(pod, metadata={"name": "p2", "namespace": "default"},
                spec={"nodeName": "edge-b",
                      "containers": [{"name": "c", "image": "busybox",
                                      "envFrom": [{"configMapRef":
                                                   {"name": "cfg-b"}}]}]})
    kubectl("apply", "-f", "-", stdin=json.dumps(podb))
    kubectl("patch", "configmap", "cfg-a", "-p", '{"data":{"k":"a2"}}')
    m, seen = a.until(lambda m: m.get("key") ==
                      "/registry/core/configmaps/default/cfg-a",
                      "a referenced configmap's change reaches the node")
    check("another node's pod is not sent",
          all("p2" not in x.get("key", "") and "cfg-b" not in x.get("key", "")
              for x in seen), str([x.get("key") for x in seen]))
    check_eq("changed value", m and m["object"]["data"]["k"], "a2")
    last_rev = m and m["rev"]
    lease = kubectl("get", "lease", "-n", "kube-node-lease", "edge-a", "-o",
                    "jsonpath={.spec.holderIdentity}")
    check_eq("the hub renews the node's lease", lease.stdout, "edge-a")
    a.ws.close()

with section("resume from a revision"):
    kubectl("patch", "configmap", "cfg-a", "-p", '{"data":{"k":"a3"}}')
    kubectl("delete", "pod", "p1", "--wait=false")
    a = Session("edge-a", crt_a, key_a, rev=last_rev)
    w, _ = a.until(lambda m: m.get("type") == "welcome", "welcome")
    check_eq("resume is incremental", w and w.get("snapshot"), False)
    s, seen = a.until(lambda m: m.get("type") == "sync", "catch-up ends in sync")
    got = {(x["type"], x.get("key")) for x in seen if x["type"] in ("put", "delete")}
    check("the deleted pod is deleted",
          ("delete", "/registry/core/pods/default/p1") in got, str(got))
    check("its configmap, no longer referenced, is deleted",
          ("delete", "/registry/core/configmaps/default/cfg-a") in got, str(got))
    check("its namespace, no longer used by its pods, is deleted",
          ("delete", "/registry/core/namespaces/default") in got, str(got))
    check("nothing else is sent (pod, configmap, service account, "
          "namespace)", len(got) <= 4, str(got))
    a.ws.close()

with section("session refusals"):
    try:
        websocket.create_connection(
            cloud.hub_url.replace("https://", "wss://") + "/hub",
            sslopt={"ca_certs": os.path.join(data, "pki", "ca.crt")},
            timeout=10)
        check("no certificate is refused", False)
    except websocket.WebSocketBadStatusException as e:
        check_match("no certificate: 401", str(e), "401")
    code, ans = post_join({"token": t1, "node": "edge-a",
                           "csr": make_csr("again")[1]})
    check_eq("a registered name cannot be taken again", code, 409)

finish()
