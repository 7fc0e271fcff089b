# Sourced by bench/run-train.sh: the environment the PyTorch peer runs in. Debian's python3-torch links the
# reference BLAS (libblas.so.3 from libblas3); OpenBLAS with its SkylakeX (AVX-512) kernels is put in front of it
# for the peer's process only: Debian's libopenblas0-openmp package is downloaded (`apt-get download`) and unpacked
# (`dpkg-deb -x`) into a cache folder — never installed system-wide — and its folder goes first on LD_LIBRARY_PATH.
# glibc's malloc is told to keep freed memory (mmap_max=0: large blocks come from the heap too; a 16 GiB trim threshold: nothing is given back) so that steps do not pay for page
# faults of activations freed and allocated again, as jemalloc/tcmalloc setups of PyTorch do.
# Exports FURNACE_TORCH_ENV: the variables as NAME=VALUE;… for the harness to set on the peer's process alone.
bench_cache="${FURNACE_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/furnace-bench}"
openblas_dir="$bench_cache/openblas-openmp"
openblas_lib="$openblas_dir/usr/lib/x86_64-linux-gnu/openblas-openmp"
if [ ! -f "$openblas_lib/libblas.so.3" ]; then
  mkdir -p "$bench_cache"
  ( cd "$bench_cache" && rm -f libopenblas0-openmp_*.deb && apt-get download libopenblas0-openmp >/dev/null 2>&1 ) || {
    echo "apt-get download libopenblas0-openmp failed (run apt-get update first?)" >&2; return 1; }
  rm -rf "$openblas_dir"
  dpkg-deb -x "$bench_cache"/libopenblas0-openmp_*.deb "$openblas_dir"
fi
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "PyTorch is missing for /usr/bin/python3: apt-get install python3-torch" >&2; return 1; }
export FURNACE_TORCH_ENV="LD_LIBRARY_PATH=$openblas_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH};OPENBLAS_CORETYPE=SkylakeX;GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456"
