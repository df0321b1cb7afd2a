#!/usr/bin/env bash
# Build the Android APK: stage the app as python-for-android wants it (main.py at the top, the
# `mobile` package beside it), then run buildozer there. Needs buildozer, a JDK and network
# access to Google's SDK/NDK downloads; see mobile/README.md ("Android").
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
stage="$root/build/android"
mkdir -p "$stage"
rsync -a --delete --exclude '__pycache__' --exclude 'android' "$root/mobile/" "$stage/mobile/"
cp "$root/mobile/android/main.py" "$stage/main.py"
cp "$root/mobile/buildozer.spec" "$stage/buildozer.spec"
[[ -d "$root/mobile/android/p4a-recipes" ]] && rsync -a "$root/mobile/android/p4a-recipes/" "$stage/p4a-recipes/"
cd "$stage"
exec buildozer -v android "${1:-debug}"
