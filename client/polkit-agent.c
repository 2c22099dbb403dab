/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The text authentication agent, as systemctl, busctl and udisksctl start it: a call that
 * allows interactive authorization makes polkit look for an agent of the caller's session, and
 * on a terminal there may be none. pkttyagent, registered for imapictl's process (its default:
 * its parent), asks for the password on the terminal. It closes --notify-fd once registered,
 * so that the first call does not race it; --fallback leaves a graphical agent of the session
 * in charge where there is one.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "polkit-agent.h"

#define POLKIT_AGENT_PATH "/usr/bin/pkttyagent"

static pid_t agent_pid = 0;

static void agent_exec(int notify_fd) {
        char fd_text[16];

        /* The agent goes with imapictl, however imapictl ends. */
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
                _exit(EXIT_FAILURE);
        if (fcntl(notify_fd, F_SETFD, 0) < 0)
                _exit(EXIT_FAILURE);
        snprintf(fd_text, sizeof fd_text, "%d", notify_fd);
        execl(POLKIT_AGENT_PATH, POLKIT_AGENT_PATH, "--notify-fd", fd_text, "--fallback", (char *) NULL);
        _exit(EXIT_FAILURE);
}

int polkit_agent_open(void) {
        struct pollfd p;
        int fds[2];
        pid_t pid;

        if (agent_pid > 0)
                return 0;
        /* polkit allows root everything; a pipe or a file has nobody to ask. */
        if (geteuid() == 0 || !isatty(STDIN_FILENO) || access(POLKIT_AGENT_PATH, X_OK) < 0)
                return 0;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return -errno;
        }
        if (pid == 0) {
                close(fds[0]);
                agent_exec(fds[1]);
        }
        close(fds[1]);
        /* Registered when the agent closes its end (or exits, having failed to). */
        p = (struct pollfd) { .fd = fds[0], .events = POLLIN };
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
                ;
        close(fds[0]);
        agent_pid = pid;
        return 0;
}

void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;
        (void) kill(agent_pid, SIGTERM);
        (void) kill(agent_pid, SIGCONT);
        while (waitpid(agent_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        agent_pid = 0;
}
