/* JSON strings as C strings, refusing any that holds a NUL (json_string.h). */
#include "build_config.h"

#include <string.h>

#include "json_string.h"

const char *
bg_json_cstring(json_object *v)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

const char *
bg_json_member_cstring(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? bg_json_cstring(v) : NULL;
}
