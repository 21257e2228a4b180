#!/usr/bin/env bash
# Type-checks both crates (the core with its tests and examples, and the napi binding) for
# Windows and macOS from a Linux machine, with warnings denied:
#
#   scripts/check-platforms.sh [target...]
#
# (default targets: x86_64-pc-windows-msvc aarch64-pc-windows-msvc aarch64-apple-darwin
# x86_64-apple-darwin). Nothing is linked, so no Windows or macOS SDK is
# needed: cargo builds the standard library of each target from source
# (`-Zbuild-std`), which needs a rustc whose source is at hand. Debian ships
# both: `rustc-web` and `cargo-web` (installed as /usr/bin/rustc and
# /usr/bin/cargo) and `rust-web-src` (the source, under /usr/src, found
# through the rustc's sysroot). They are installed with apt-get when missing,
# all three at one version: DEBIAN_RUST_VERSION if set, else the installed
# rustc-web's, else the one apt offers. RUSTC_BOOTSTRAP=1 lets that stable
# toolchain take `-Z` flags. The rustup toolchain and target/ are left alone:
# the output goes to target/check-platforms.
#
# Exits non-zero when any target fails (each is tried, then the failures are
# listed).
set -euo pipefail

cd "$(dirname "$0")/.."

readonly PACKAGES=(rustc-web cargo-web rust-web-src)
readonly DEFAULT_TARGETS=(x86_64-pc-windows-msvc aarch64-pc-windows-msvc aarch64-apple-darwin x86_64-apple-darwin)
readonly TARGET_DIR=target/check-platforms

# The installed version of a package, empty when it is not installed.
installed_version() {
  { dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null || true; } |
    awk '$1 == "installed" { print $2 }'
}

# The version apt would install, empty when it offers none.
candidate_version() {
  { apt-cache policy "$1" 2>/dev/null || true; } |
    awk '/Candidate:/ && $2 != "(none)" { print $2 }'
}

# The first file of package $1 whose path ends with $2, outside /usr/share
# (cargo-web also has a packaging wrapper, /usr/share/cargo/bin/cargo).
package_file() {
  dpkg -L "$1" | awk -v suffix="$2" '
    substr($0, length($0) - length(suffix) + 1) == suffix && $0 !~ "^/usr/share/" && !found {
      print
      found = 1
    }'
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  command -v apt-get >/dev/null || {
    echo "check-platforms: needs Debian's ${PACKAGES[*]} (apt-get not found)" >&2
    exit 1
  }
  local version=${DEBIAN_RUST_VERSION:-$(installed_version rustc-web)}
  if [[ -z $version ]]; then
    version=$(candidate_version rustc-web)
  fi
  if [[ -z $version ]]; then
    as_root apt-get update -qq
    version=$(candidate_version rustc-web)
  fi
  if [[ -z $version ]]; then
    echo "check-platforms: apt offers no rustc-web (Debian 12 has it in bookworm-security)" >&2
    exit 1
  fi
  local missing=() package
  for package in "${PACKAGES[@]}"; do
    if [[ $(installed_version "$package") != "$version" ]]; then
      missing+=("$package=$version")
    fi
  done
  if ((${#missing[@]})); then
    echo "check-platforms: installing ${missing[*]}"
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
      # The package lists may predate the version: refresh them once.
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
  fi
}

install_packages

# The Debian toolchain, by the paths its packages installed (not the rustup
# proxies that come first on PATH).
rustc=$(package_file rustc-web /bin/rustc)
rustdoc=$(package_file rustc-web /bin/rustdoc)
cargo=$(package_file cargo-web /bin/cargo)
sysroot=$("$rustc" --print sysroot)
if [[ ! -f $sysroot/lib/rustlib/src/rust/library/Cargo.lock ]]; then
  echo "check-platforms: no standard library source under $sysroot/lib/rustlib/src/rust" >&2
  exit 1
fi

for package in "${PACKAGES[@]}"; do
  echo "check-platforms: $package $(installed_version "$package")"
done
echo "check-platforms: $("$rustc" --version), $("$cargo" --version)"

targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=("${DEFAULT_TARGETS[@]}")
fi

failed=()
for target in "${targets[@]}"; do
  echo "check-platforms: checking $target"
  # --lib --tests rather than --all-targets: the binding's library has no
  # test build (napi symbols; see Cargo.toml), and --all-targets would also
  # check it as a bench.
  if ! env -u RUSTUP_TOOLCHAIN \
    RUSTC="$rustc" RUSTDOC="$rustdoc" RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Dwarnings \
    "$cargo" check --locked --workspace --lib --bins --tests --examples \
    -Zbuild-std=std,panic_abort --target "$target" --target-dir "$TARGET_DIR"; then
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "check-platforms: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "check-platforms: ok: ${targets[*]}"
