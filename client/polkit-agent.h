/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A text polkit agent on the terminal while imapictl waits for imapid (polkit-agent.c). */
#pragma once

/* Starts pkttyagent for this process, when imapictl is not root and its standard input is a
 * terminal, and returns once the agent has registered (or given up). Idempotent. */
int polkit_agent_open(void);
/* Stops it (at exit). */
void polkit_agent_close(void);
