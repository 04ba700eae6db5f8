/* placeholder while the deployment controller is written */
#include "controllers/ctrl.h"
static void dsync(struct ctrl *c, const char *key) { (void)c; (void)key; }
const struct ctrl_def ctrl_deployment_def = {.name = "deployment", .user = "system:serviceaccount:kube-system:deployment-controller", .sync = dsync};
