# Sourced by pack.sh and device_check.sh: the libraries the GPU bundle leaves
# to the machine, and which of its files are programs or shared libraries.
# Left out: glibc's (every Linux has its own) and CUDA's (the GPU machine's
# toolkit or PyTorch's wheels; cuDNN alone is ~1 GB). Extended regular
# expressions that bash's =~ and awk read alike.
BUNDLE_GLIBC='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|ld-linux-x86-64)[.]so'
BUNDLE_CUDA='^(libcudart|libcublas|libcublasLt|libcudnn[a-z_]*|libcuda|libnvidia-[a-z-]*)[.]so'

# bundle_elves DIR...: the programs and shared libraries under DIR
bundle_elves() { find "$@" -type f \( -perm -u+x -o -name '*.so*' \); }
