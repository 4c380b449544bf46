#ifndef E2H_CLIBPQ_SHIM_H
#define E2H_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
