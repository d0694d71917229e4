// ktune-worker: placeholder until the Workers issue lands the compile worker.
#include <cstdio>
int main() {
  std::fprintf(stderr, "ktune-worker: not implemented yet\n");
  return 2;
}
