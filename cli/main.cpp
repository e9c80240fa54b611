#include "cli/commands.hpp"

int main(int argc, char** argv) { return stepq::run_cli(argc, argv); }
