/* layout: new elements follow their siblings' indentation; compact
 * documents stay compact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/xmlutil.h"
#include "../../xmlpatch/domain.h"
#include "../../xmlpatch/layout.h"

/* Appends <new><leaf/></new> to the element at xpath-free path: the first
 * <devices>, or the root when there is none. */
static char *append_to(const char *text)
{
    struct sp_err err;
    xmlDocPtr doc = sp_xml_parse(text, strlen(text), "t", &err);
    assert_non_null(doc);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr parent = sp_xml_child(root, "devices");
    if (!parent)
        parent = root;
    xmlNodePtr el = xmlNewDocNode(doc, NULL, BAD_CAST "new", NULL);
    xmlNewChild(el, NULL, BAD_CAST "leaf", NULL);
    assert_int_equal(sp_layout_append(parent, el), 0);
    char *out;
    size_t len;
    assert_int_equal(sp_domain_serialize(doc, text, strlen(text), &out, &len, &err), 0);
    xmlFreeDoc(doc);
    return out;
}

static void check(const char *in, const char *expected)
{
    char *out = append_to(in);
    assert_string_equal(out, expected);
    free(out);
}

static void follows_two_space_indentation(void **state)
{
    (void)state;
    check("<domain>\n  <devices>\n    <disk/>\n  </devices>\n</domain>\n",
          "<domain>\n  <devices>\n    <disk/>\n    <new>\n      <leaf/>\n    </new>\n"
          "  </devices>\n</domain>\n");
}

static void follows_tabs(void **state)
{
    (void)state;
    check("<domain>\n\t<devices>\n\t\t<disk/>\n\t</devices>\n</domain>",
          "<domain>\n\t<devices>\n\t\t<disk/>\n\t\t<new>\n\t\t\t<leaf/>\n\t\t</new>\n"
          "\t</devices>\n</domain>");
}

static void fills_an_empty_element(void **state)
{
    (void)state;
    check("<domain>\n    <name>x</name>\n    <devices/>\n</domain>\n",
          "<domain>\n    <name>x</name>\n    <devices>\n        <new>\n            <leaf/>\n"
          "        </new>\n    </devices>\n</domain>\n");
}

static void compact_stays_compact(void **state)
{
    (void)state;
    check("<domain><devices><disk/></devices></domain>",
          "<domain><devices><disk/><new><leaf/></new></devices></domain>");
}

static void appends_to_the_root(void **state)
{
    (void)state;
    check("<domain>\n  <name>x</name>\n</domain>\n",
          "<domain>\n  <name>x</name>\n  <new>\n    <leaf/>\n  </new>\n</domain>\n");
}

/* Regression: a leading <?xml-stylesheet?> was taken for a declaration. */
static void stylesheet_pi_is_not_a_declaration(void **state)
{
    (void)state;
    check("<?xml-stylesheet href='x'?><domain/>",
          "<?xml-stylesheet href='x'?>\n<domain>\n  <new>\n    <leaf/>\n  </new>\n</domain>");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(follows_two_space_indentation),
        cmocka_unit_test(follows_tabs),
        cmocka_unit_test(fills_an_empty_element),
        cmocka_unit_test(compact_stays_compact),
        cmocka_unit_test(appends_to_the_root),
        cmocka_unit_test(stylesheet_pi_is_not_a_declaration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
