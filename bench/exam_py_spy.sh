#!/bin/bash
# The exam-×5 bench with py-spy recording each gunicorn worker (the samples that hold the GIL: CPU in Python).
#   bench/exam_py_spy.sh SCRATCH_DB_NAME OUT_DIR [SECONDS=200] [extra bench/quiz_exam.py arguments…]
# OUT_DIR gets exam.log and one collapsed-stack file per worker (py-spy's "raw" format: stack;stack;… count),
# e.g. `grep -h FastSave._answer OUT_DIR/w*.txt | awk '{s+=$NF} END {print s}'` for the autosave's samples.
# py-spy itself takes CPU: compare shares within a run, not latencies with a run without it.
set -euo pipefail
db=$1 out=$2 seconds=${3:-200}
shift $(( $# < 3 ? $# : 3 ))
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/.venv/bin
mkdir -p "$out" && rm -f "$out"/w*.txt
"$bin/python" "$here/bench/quiz_exam.py" --scratch-db "postgresql://postgres@127.0.0.1:5432/$db" --learners 5000 \
    --spread 60 --think 20 --timeline "$@" > "$out/exam.log" 2>&1 &
bench=$!
master=""
while [ -z "$master" ] && kill -0 "$bench" 2>/dev/null; do  # the gunicorn master: a gunicorn whose parent is not one
    for pid in $(pgrep -f "bin/gunicorn" || true); do
        parent=$(ps -o ppid= -p "$pid" | tr -d ' ')
        if ! pgrep -f "bin/gunicorn" | grep -qx "$parent"; then master=$pid; fi
    done
    sleep 0.5
done
sleep 8  # the workers are up and warmed
for worker in $(pgrep -P "$master"); do
    "$bin/py-spy" record --pid "$worker" --duration "$seconds" --rate 100 --gil --format raw -o "$out/w$worker.txt" \
        > /dev/null 2>&1 &
done
wait
tail -20 "$out/exam.log"
