// A program outside the project that uses the installed library.
#include <sextant/IndexFlat.h>

#include <cstdio>

int main() {
  sextant::IndexFlatL2 index(2);
  const float xb[] = {0, 0, 1, 1, 5, 5};
  index.add(3, xb);
  const float q[] = {0.9f, 1.2f};
  float distance;
  sextant::idx_t label;
  index.search(1, q, 1, &distance, &label);
  std::printf("nearest: %lld\n", static_cast<long long>(label));
  return label == 1 ? 0 : 1;
}
