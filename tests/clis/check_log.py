"""Checks a model stub's log after one CLI turn: the CLI offered the model every tool of the server, and the
tool calls it made for the model reached the server and succeeded (start_kernel, then run_cell giving 42).

usage: check_log.py CLI LOG EXPECTED_TOOLS_JSON
"""

import json
import sys

cli, log_file, expected_file = sys.argv[1:4]
expected = sorted(json.load(open(expected_file)))
entries = [json.loads(line) for line in open(log_file)] if open(log_file).read().strip() else []
turns = [e for e in entries if e.get("tools")]
fail = []
if not turns:
    fail.append(f"the model was never offered a jupyter tool ({len(entries)} requests)")
else:
    offered = turns[0]["tools"]
    if offered != expected:
        fail.append(f"offered {len(offered)} tools, missing {sorted(set(expected) - set(offered))}, extra {sorted(set(offered) - set(expected))}")
    results = turns[-1].get("tool_results", [])
    if len(results) < 2:
        fail.append(f"{len(results)} tool results came back to the model, want 2 (start_kernel, run_cell)")
    for r in results:
        if "error" in r.lower() and "reported" in r.lower() or "unexpected additional properties" in r:
            fail.append(f"a tool call failed: {r[:400]}")
    if results and "42" not in results[-1]:
        fail.append(f"run_cell's result lacks 42: {results[-1][:400]}")
if fail:
    print(f"{cli}: FAILED\n- " + "\n- ".join(fail))
    sys.exit(1)
print(f"ok: {cli} offered all {len(expected)} tools and ran start_kernel + run_cell (6 * 7 = 42)")
