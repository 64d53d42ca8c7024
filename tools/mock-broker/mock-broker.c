/*
 * mock-broker: a Kafka-protocol broker for local runs and tests, built on
 * librdkafka's mock cluster (librdkafka-dev). It is not Kafka: see
 * docs/testing.md for what it answers and what it does not.
 *
 * usage: mock-broker [--brokers N] [--topic NAME:PARTITIONS]... [--detached]
 *
 * Prints "BOOTSTRAP <host:port,...>" on stdout once the cluster is up, then
 * reads commands, one per line, from stdin and answers each with "OK ..." or
 * "ERR ...":
 *   down <broker-id>   the broker stops answering (connections are closed)
 *   up <broker-id>     the broker answers again
 *   topic <name> <n>   create a topic with n partitions
 *   topic-error <name> <code>
 *                      answer metadata requests for the topic with Kafka error
 *                      <code> (e.g. 29, TOPIC_AUTHORIZATION_FAILED); 0 lifts it. Only
 *                      metadata: a client that already knows the topic's leaders
 *                      still produces to it.
 *   quit               shut down (as do SIGTERM and SIGINT)
 * When stdin closes (the parent died) it shuts down too, unless --detached is given.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

static int create_topic(rd_kafka_mock_cluster_t *mcluster, const char *spec) {
        char name[512];
        const char *colon = strrchr(spec, ':');
        int partitions = 4;
        size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
        if (len == 0 || len >= sizeof(name))
                return -1;
        memcpy(name, spec, len);
        name[len] = '\0';
        if (colon) {
                partitions = atoi(colon + 1);
                if (partitions <= 0)
                        return -1;
        }
        return rd_kafka_mock_topic_create(mcluster, name, partitions, 1) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR
                   ? 0
                   : -1;
}

static void handle_command(rd_kafka_mock_cluster_t *mcluster, char *line) {
        char cmd[32], arg[512];
        int n = 0;
        int fields = sscanf(line, "%31s %511s %d", cmd, arg, &n);
        if (fields <= 0)
                return;
        if (strcmp(cmd, "quit") == 0) {
                stop_requested = 1;
                printf("OK quit\n");
        } else if (fields >= 2 && strcmp(cmd, "down") == 0) {
                rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(mcluster, atoi(arg));
                printf(err ? "ERR %s\n" : "OK down %s\n", err ? rd_kafka_err2str(err) : arg);
        } else if (fields >= 2 && strcmp(cmd, "up") == 0) {
                rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(mcluster, atoi(arg));
                printf(err ? "ERR %s\n" : "OK up %s\n", err ? rd_kafka_err2str(err) : arg);
        } else if (fields == 3 && strcmp(cmd, "topic") == 0) {
                char spec[600];
                snprintf(spec, sizeof(spec), "%s:%d", arg, n);
                printf(create_topic(mcluster, spec) == 0 ? "OK topic %s\n" : "ERR topic %s\n", arg);
        } else if (fields == 3 && strcmp(cmd, "topic-error") == 0) {
                rd_kafka_mock_topic_set_error(mcluster, arg, (rd_kafka_resp_err_t)n);
                printf("OK topic-error %s %d\n", arg, n);
        } else {
                printf("ERR unknown command\n");
        }
        fflush(stdout);
}

int main(int argc, char **argv) {
        int brokers = 1;
        int detached = 0;
        char errstr[512];
        int i;

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
                        brokers = atoi(argv[++i]);
                        if (brokers <= 0) {
                                fprintf(stderr, "mock-broker: --brokers needs a positive number\n");
                                return 2;
                        }
                } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
                        i++; /* created below, once the cluster exists */
                } else if (strcmp(argv[i], "--detached") == 0) {
                        detached = 1;
                } else {
                        fprintf(stderr, "usage: %s [--brokers N] [--topic NAME:PARTITIONS]... [--detached]\n", argv[0]);
                        return 2;
                }
        }

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "mock-broker: %s\n", errstr);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mock-broker: %s\n", errstr);
                return 1;
        }
        rd_kafka_mock_cluster_t *mcluster = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mcluster) {
                fprintf(stderr, "mock-broker: could not create the mock cluster\n");
                rd_kafka_destroy(rk);
                return 1;
        }
        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--topic") == 0) {
                        if (create_topic(mcluster, argv[++i]) != 0) {
                                fprintf(stderr, "mock-broker: bad topic spec %s (want NAME:PARTITIONS)\n", argv[i]);
                                rd_kafka_mock_cluster_destroy(mcluster);
                                rd_kafka_destroy(rk);
                                return 2;
                        }
                } else if (strcmp(argv[i], "--brokers") == 0) {
                        i++;
                }
        }

        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        char line[1024];
        size_t used = 0;
        int stdin_open = 1;
        while (!stop_requested) {
                struct pollfd pfd = {.fd = 0, .events = POLLIN};
                int r = poll(&pfd, stdin_open ? 1 : 0, 200);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (r == 0 || !(pfd.revents & (POLLIN | POLLHUP)))
                        continue;
                ssize_t got = read(0, line + used, sizeof(line) - 1 - used);
                if (got <= 0) {
                        stdin_open = 0;
                        if (!detached)
                                stop_requested = 1; /* the parent is gone */
                        continue;
                }
                used += (size_t)got;
                line[used] = '\0';
                char *nl;
                while ((nl = strchr(line, '\n')) != NULL) {
                        *nl = '\0';
                        handle_command(mcluster, line);
                        size_t rest = used - (size_t)(nl + 1 - line);
                        memmove(line, nl + 1, rest);
                        used = rest;
                        line[used] = '\0';
                }
                if (used == sizeof(line) - 1)
                        used = 0; /* overlong line: drop it */
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
