#!/bin/sh
# The exec agents of the incident-response scenario: one script, the role as $1, the task type and
# payload from vapora ($VAPORA_TASK_TYPE, $VAPORA_PAYLOAD_<KEY>). Every call is logged beside the run's
# artifacts ($SCENARIO_CALLS), so the scenario can check what ran and when.
echo "$1 $VAPORA_TASK_TYPE $VAPORA_PAYLOAD" >> "$SCENARIO_CALLS"
case "$VAPORA_TASK_TYPE" in
  health_check)
    # Today's stand-in for a real check of a throwaway PostgreSQL: the service is reported down.
    printf '{"service":"%s","healthy":false,"error":"connection refused on 127.0.0.1:5432"}\n' "$VAPORA_PAYLOAD_SERVICE" ;;
  restart)
    printf '{"service":"%s","action":"restart","finding":"%s","status":"active"}\n' "$VAPORA_PAYLOAD_SERVICE" "$VAPORA_PAYLOAD_FINDING" ;;
  audit_verify)
    # The Security agent checks the svault audit chain with the real binary; a broken chain blocks the run.
    if out=$("$SCENARIO_NODE" "$SCENARIO_SVAULT_BIN" audit verify "$VAPORA_PAYLOAD_AUDIT_LOG" --json 2>&1); then
      lines=$(printf '%s' "$out" | sed -n 's/.*"lines": *\([0-9]*\).*/\1/p')
      printf '{"block":false,"reason":"audit chain intact","lines":%s}\n' "${lines:-0}"
    else
      printf '{"block":true,"reason":"svault audit verify failed"}\n'
    fi ;;
  *) echo "unknown task type $VAPORA_TASK_TYPE" >&2; exit 1 ;;
esac
