/*
 * Helpers for Table printer columns: ages and durations as kubectl shows
 * them, and common cell builders.
 */
#ifndef KEDGE_RESOURCES_PRINT_H
#define KEDGE_RESOURCES_PRINT_H

#include <json-c/json.h>
#include <stddef.h>
#include <time.h>

/* Kubernetes' HumanDuration: "45s", "5m3s", "3h", "2d5h", "400d", "3y". */
void print_duration(char *buf, size_t len, long long seconds);

/* Parses an RFC 3339 timestamp ("2026-11-23T20:04:20Z"); -1 if invalid. */
time_t print_parse_time(const char *rfc3339);

/* AGE of an object (now - metadata.creationTimestamp), "<unknown>" when
 * absent. */
void print_age(char *buf, size_t len, struct json_object *obj, time_t now);

/* Appends a string cell / an integer cell to `cells`. */
void print_cell_str(struct json_object *cells, const char *s);
void print_cell_int(struct json_object *cells, long long v);

/* translateTimestampSince for any RFC 3339 timestamp: HumanDuration of
 * now - ts, "<unknown>" when ts is NULL, empty or invalid. */
void print_since(char *buf, size_t len, const char *rfc3339, time_t now);

/* labels.FormatLabels: "k1=v1,k2=v2" with keys sorted, "<none>" for an
 * empty or absent map (non-string values are skipped). Caller frees;
 * NULL only when memory runs out. */
char *print_labels(struct json_object *map);

#endif
