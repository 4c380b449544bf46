#ifndef E2H_CYAML_SHIM_H
#define E2H_CYAML_SHIM_H
#include <yaml.h>
#endif
