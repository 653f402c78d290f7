#!/usr/bin/env bash
# Installs every build, test and fuzz dependency of slmtune from Debian 12's packages.
# Idempotent: packages already present are skipped, so running it twice costs one dpkg query.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev   # JSON
  libpcre2-dev         # tokenizer pre-tokenizer regexes (Unicode properties)
  libicu-dev           # tokenizer NFC/NFKC normalizers
  libcurl4-openssl-dev # HTTP(S) client for data synth's teacher model (OpenAI-compatible servers)
  libgtest-dev libgmock-dev
  libopenblas-openmp-dev  # BLAS, OpenMP flavour so BLAS and our parallel-for share one pool
  libomp-dev
  libfmt-dev libcli11-dev libyaml-cpp-dev
  clang libclang-rt-14-dev  # libFuzzer and the sanitizer runtime
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
