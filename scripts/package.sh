#!/usr/bin/env bash
# Build frontdesk's packages from the metadata in Cargo.toml.
#
#   scripts/package.sh deb    # -> target/debian/frontdesk_<version>-1_<arch>.deb  (cargo-deb)
#   scripts/package.sh rpm    # -> target/generate-rpm/frontdesk-<version>-1.<arch>.rpm  (cargo-generate-rpm)
#   scripts/package.sh all    # both
#
# Each run builds the release binaries (incremental: a built target/release is reused),
# generates the shell completions into target/completions/ with
# `frontdeskctl completions SHELL`, and for the rpm stages stripped binaries and
# gzipped man pages in target/package/ (cargo-deb strips and gzips by itself).
# cargo-deb and cargo-generate-rpm are installed with `cargo install --locked` when
# missing. The path of each package built is printed last, one per line:
#   deb: target/debian/frontdesk_0.1.0-1_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: scripts/package.sh deb|rpm|all" >&2
    exit 64
}
[ $# -eq 1 ] || usage
case "$1" in
    deb) kinds=(deb) ;;
    rpm) kinds=(rpm) ;;
    all) kinds=(deb rpm) ;;
    *) usage ;;
esac

# Where cargo puts the binaries (CARGO_TARGET_DIR may move it); the generated files
# the metadata names stay under ./target/.
bin_dir="${CARGO_TARGET_DIR:-target}/release"

ensure_tool() { # cargo subcommand, crate
    if ! cargo "$1" --version >/dev/null 2>&1; then
        echo "== cargo install --locked $2" >&2
        cargo install --locked "$2" >&2
    fi
}

echo "== cargo build --release" >&2
cargo build --release --locked --bins >&2

echo "== shell completions -> target/completions/" >&2
mkdir -p target/completions
"$bin_dir/frontdeskctl" completions bash >target/completions/frontdeskctl.bash
"$bin_dir/frontdeskctl" completions zsh >target/completions/_frontdeskctl
"$bin_dir/frontdeskctl" completions fish >target/completions/frontdeskctl.fish

built=()
for kind in "${kinds[@]}"; do
    case "$kind" in
        deb)
            ensure_tool deb cargo-deb
            echo "== cargo deb" >&2
            # --strip: ship stripped binaries; [profile.release] keeps debug info for
            # benchmarks and backtraces in development.
            out=$(cargo deb --no-build --locked --strip)
            built+=("deb: ${out##*$'\n'}")
            ;;
        rpm)
            ensure_tool generate-rpm cargo-generate-rpm
            echo "== staging target/package/ (stripped binaries, gzipped man pages)" >&2
            rm -rf target/package
            mkdir -p target/package/bin target/package/man
            for b in frontdeskd frontdeskctl; do
                strip --strip-unneeded -o "target/package/bin/$b" "$bin_dir/$b"
            done
            for m in man/*.[158]; do
                gzip -9 -n -c "$m" >"target/package/man/$(basename "$m").gz"
            done
            echo "== cargo generate-rpm" >&2
            cargo generate-rpm >&2
            version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
            rpm_file=$(ls -t target/generate-rpm/frontdesk-"$version"-1.*.rpm | head -n 1)
            built+=("rpm: $rpm_file")
            ;;
    esac
done
printf '%s\n' "${built[@]}"
