/*
 * Type-safe accessors for json-c objects built from client input: every
 * getter checks the JSON type and answers NULL/false instead of crashing
 * or coercing, so defaults and validators can read untrusted objects.
 */
#ifndef KEDGE_RESOURCES_JSONUTIL_H
#define KEDGE_RESOURCES_JSONUTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* o[key] if o is an object and the value is a string; NULL otherwise.
 * The string is owned by the json object. */
const char *ju_str(struct json_object *o, const char *key);

/* o[key] if o is an object and the value is an object; NULL otherwise
 * (borrowed reference). */
struct json_object *ju_obj(struct json_object *o, const char *key);

/* o[key] if o is an object and the value is an array; NULL otherwise
 * (borrowed reference). */
struct json_object *ju_arr(struct json_object *o, const char *key);

/* Stores o[key] in *out and returns true if it is a JSON integer (or a
 * double with an integral value); false (out untouched) otherwise. */
bool ju_int(struct json_object *o, const char *key, int64_t *out);

/* Stores o[key] in *out and returns true if it is a JSON boolean. */
bool ju_bool(struct json_object *o, const char *key, bool *out);

/* Walks a dotted path ("spec.template.metadata") through nested objects;
 * the value at the end may be of any type. NULL if any step is missing
 * or not an object. Borrowed reference. */
struct json_object *ju_path(struct json_object *o, const char *path);

/* Gets o[key] if it is an object, else (absent, null or of another type)
 * replaces it with a new empty object and returns that. NULL only if o
 * is not an object or memory runs out. Borrowed reference. */
struct json_object *ju_obj_ensure(struct json_object *o, const char *key);

/* Gets o[key] if it is an array, else replaces it with a new empty array.
 * NULL only if o is not an object. Borrowed reference. */
struct json_object *ju_arr_ensure(struct json_object *o, const char *key);

/* Sets o[key] to a string / integer / boolean (no-op if o is not an
 * object). */
void ju_set_str(struct json_object *o, const char *key, const char *v);
void ju_set_int(struct json_object *o, const char *key, int64_t v);
void ju_set_bool(struct json_object *o, const char *key, bool v);

/* Sets o[key] only when it is absent or JSON null (a value of the wrong
 * type is left for validation to report). */
void ju_default_str(struct json_object *o, const char *key, const char *v);
void ju_default_int(struct json_object *o, const char *key, int64_t v);
void ju_default_bool(struct json_object *o, const char *key, bool v);

/* True if o is an object and has key with a non-null value. */
bool ju_has(struct json_object *o, const char *key);

/* Number of elements of an array value, 0 if not an array. */
size_t ju_len(struct json_object *arr);

/* Element i of an array if it is an object, else NULL. */
struct json_object *ju_idx_obj(struct json_object *arr, size_t i);

#endif
