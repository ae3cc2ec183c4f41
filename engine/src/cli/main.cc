#include "cli/cli.h"

int main(int argc, char** argv) {
  return sluice::CommandLineMain(argc, argv);
}
