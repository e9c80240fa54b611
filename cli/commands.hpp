// The stepq command line. Exit status: 0 ok, 1 the run failed, 2 bad input (DESIGN §4).
#pragma once

namespace stepq {

int run_cli(int argc, char** argv);

}  // namespace stepq
