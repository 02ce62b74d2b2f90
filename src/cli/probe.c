// SPDX-License-Identifier: MIT
#include "cli.h"
#include "../util.h"

int cmd_probe(int argc, char **argv)
{
	(void)argc; (void)argv;
	vt_err("probe: not implemented yet");
	return 1;
}
