#!/usr/bin/env bash
# The whole test suite: type-check, then every test file on Node 24, Deno and Bun.
# Fails if any runtime fails. Usage: npm test  (or: bash test/run.sh [node|deno|bun]...)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=node_modules/.bin
runtimes=("$@")
[ ${#runtimes[@]} -eq 0 ] && runtimes=(typecheck node deno bun)
failed=()

for rt in "${runtimes[@]}"; do
  echo "=== $rt"
  case "$rt" in
    typecheck) "$BIN/tsc" --noEmit -p . ;;
    node) "$BIN/node" --test --test-concurrency=1 'src/**/*_test.ts' 'test/**/*_test.ts' ;;
    deno) "$BIN/deno" test -A --no-check src/ test/ ;;
    bun) "$BIN/bun" test --timeout 30000 ./src ./test ;;
    *) echo "unknown runtime: $rt"; false ;;
  esac
  rc=$?
  [ $rc -ne 0 ] && failed+=("$rt")
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED on: ${failed[*]}"
  exit 1
fi
echo "All passed on: ${runtimes[*]}"
