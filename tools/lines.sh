# The supported ansible-core lines: the exact release each is tested with, its controller Python
# here, and the managed-node Pythons its ansible-test supports for modules that pyenv can provide
# (modules need 3.6+, see tests/config.yml). Sourced by tools/matrix.sh and tools/setup.sh.
# shellcheck shell=bash disable=SC2034  # the constants are read by the scripts that source this
ALL_LINES="2.16 2.17 2.18 2.19 2.20 2.21"
PINNED_LINE=2.19     # requirements/test.txt, the line every other make target uses
OLDEST_LINE=2.16
NEWEST_LINE=2.21

line_core() {
    case $1 in
        2.16) echo 2.16.19 ;; 2.17) echo 2.17.14 ;; 2.18) echo 2.18.19 ;;
        2.19) grep -oP '^ansible-core==\K.*' "$(dirname "${BASH_SOURCE[0]}")/../requirements/test.txt" ;;
        2.20) echo 2.20.10 ;; 2.21) echo 2.21.5 ;;
        *) echo "unknown ansible-core line $1 (known: $ALL_LINES)" >&2; return 1 ;;
    esac
}

line_controller_python() {
    case $1 in
        2.16 | 2.17 | 2.18 | 2.19) echo 3.11 ;; 2.20) echo 3.12 ;; 2.21) echo 3.13 ;;
    esac
}

line_module_pythons() {
    case $1 in
        2.16) echo 3.6 3.7 3.8 3.9 3.10 3.11 3.12 ;;
        2.17) echo 3.7 3.8 3.9 3.10 3.11 3.12 ;;
        2.18) echo 3.8 3.9 3.10 3.11 3.12 3.13 ;;
        2.19) echo 3.8 3.9 3.10 3.11 3.12 3.13 ;;
        2.20 | 2.21) echo 3.9 3.10 3.11 3.12 3.13 ;;  # 2.20 dropped 3.8 (its ansible-test: 3.9 - 3.14)
    esac
}
