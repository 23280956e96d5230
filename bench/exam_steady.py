"""Steady autosave and submit latency under wrk (`bench/quiz_exam.py --steady`): no Python client in the way.

Each request comes from another learner, in a rotation every wrk thread walks from its own offset.
"""

import http.client
import os
import random
import re
import subprocess
import tempfile
import time
import urllib.parse

from bench.exam_learners import answer_for, form_fields

# Each wrk thread walks the learners from its own offset, one learner per request in turn, so
# concurrent requests do not queue on one learner's rows (one learner's saves are sequential).
# items: {attempt id, cookie, csrf token, {form bodies}}.
ROTATION_LUA = """
local items = {%(items)s}
local n = 0
local counter = 0
setup = function(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local function next_item()
  local item = items[((n * %(threads)d + offset) %% #items) + 1]
  n = n + 1
  return item
end
"""

SAVE_LUA = ROTATION_LUA + """
request = function()
  local item = next_item()
  local bodies = item[4]
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json",
                   ["Cookie"] = item[2], ["X-CSRFToken"] = item[3]}
  return wrk.format("POST", "/attempts/" .. item[1] .. "/save", headers, bodies[(n %% #bodies) + 1])
end
"""

PAGE_LUA = ROTATION_LUA + """
request = function()
  local item = next_item()
  return wrk.format("GET", "/attempts/" .. item[1], {["Cookie"] = item[2]})
end
"""

FINISH_LUA = ROTATION_LUA + """
request = function()
  local item = next_item()
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = item[2]}
  return wrk.format("POST", "/attempts/" .. item[1] .. "/finish", headers, "csrf_token=" .. item[3])
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_latency(script: str, url: str, seconds: int, connections: int, threads: int = 2) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", handle.name, url],
                            capture_output=True, text=True, check=True).stdout
    os.unlink(handle.name)
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "requests": int(re.search(r"(\d+) requests in", output).group(1)),
            "p50": percentiles.get("50"), "p90": percentiles.get("90"), "p99": percentiles.get("99"),
            "errors": int(non_2xx.group(1)) if non_2xx else 0, "raw": output}


def start_attempt_over_http(port, quiz_id, cookie, token) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", f"/quizzes/{quiz_id}/start", body=urllib.parse.urlencode({"csrf_token": token}),
                 headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return int(response.getheader("Location").rsplit("/", 1)[1])


def _with_cpu(server_cpu, measure) -> dict:
    """wrk's figures of `measure()`, with the server's CPU per request: gunicorn's and the database's, in ms."""
    before = server_cpu()
    result = measure()
    after = server_cpu()
    for name, spent_before, spent_after in zip(("web_cpu_ms", "db_cpu_ms"), before, after, strict=True):
        result[name] = 1000 * (spent_after - spent_before) / max(1, result["requests"])
    return result


def steady(port, quiz_id, keys, cookies, seconds, connections, server_cpu=lambda: (0.0, 0.0)):
    """Autosave, attempt page and submit latency at a steady load, measured by wrk (no Python client in the way);
    `server_cpu()`: (gunicorn's, the database backends') CPU seconds so far."""
    rng = random.Random(1)
    save_items, finish_items = [], []
    began, cpu_before = time.perf_counter(), server_cpu()
    for cookie, token in cookies:
        attempt_id = start_attempt_over_http(port, quiz_id, cookie, token)
        bodies = []
        for question_id, question in keys.items():
            fields, _ = answer_for(question, rng)
            bodies.append(lua_string(urllib.parse.urlencode(form_fields(question_id, fields))))
        save_items.append(f"{{{attempt_id}, {lua_string(cookie)}, {lua_string(token)}, {{{', '.join(bodies)}}}}}")
        finish_items.append(f"{{{attempt_id}, {lua_string(cookie)}, {lua_string(urllib.parse.quote(token))}}}")
    cpu_after, elapsed = server_cpu(), time.perf_counter() - began
    start = {"requests": len(cookies), "rps": len(cookies) / elapsed, "p50": "-", "p90": "-", "p99": "-", "errors": 0,
             "web_cpu_ms": 1000 * (cpu_after[0] - cpu_before[0]) / len(cookies),
             "db_cpu_ms": 1000 * (cpu_after[1] - cpu_before[1]) / len(cookies)}
    base = f"http://127.0.0.1:{port}"
    # The page first: unanswered, as every learner opens it at the start of an exam.
    page = _with_cpu(server_cpu, lambda: wrk_latency(
        PAGE_LUA % {"items": ", ".join(save_items), "threads": 2}, base, seconds, connections))
    save = _with_cpu(server_cpu, lambda: wrk_latency(
        SAVE_LUA % {"items": ", ".join(save_items), "threads": 2}, base, seconds, connections))
    finish = _with_cpu(server_cpu, lambda: wrk_latency(
        FINISH_LUA % {"items": ", ".join(finish_items), "threads": 2}, base, max(1, seconds // 3), connections))
    return start, page, save, finish, len(finish_items)


def print_steady(args, start, page, save, finish, prepared) -> int:
    print(f"wrk, {args.connections} connections, gunicorn {args.workers} sync workers, PostgreSQL")
    for name, result in (("start", start), ("page", page), ("autosave", save), ("submit", finish)):
        print(f"{name:9}: {result['requests']:6d} requests  {result['rps']:7.0f} req/s  p50 {result['p50']}  "
              f"p90 {result['p90']}  p99 {result['p99']}  non-2xx/3xx {result['errors']}  "
              f"CPU/request: gunicorn {result['web_cpu_ms']:.2f} ms, PostgreSQL backends {result['db_cpu_ms']:.2f} ms")
    print("(start: the prepared attempts, one after another on one connection, before wrk; the page: each unanswered)")
    print(f"(submit: {prepared} prepared attempts; requests beyond that re-submit finished ones)")
    return 0
