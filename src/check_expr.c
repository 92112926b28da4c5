/*
 * check_expr.c - CHECK constraints compiled to C from the text pg_get_constraintdef() prints.
 *
 * Two steps. The parser reads the deparsed expression into a small tree (columns, constants,
 * casts, length(), comparisons, = ANY / <> ALL over arrays, IS [NOT] NULL/TRUE/FALSE, AND, OR,
 * NOT). The compiler then gives every comparison one exact domain (64-bit integers, numeric,
 * doubles, uuid, text bytewise, char(n) without trailing spaces), reading each constant with
 * pgtype_parse as the type its cast names, and refuses whatever it cannot evaluate exactly the
 * way PostgreSQL does: function calls but length()/char_length(), arithmetic, casts that round or
 * truncate, text ordered under a collation other than C, json, types the server checks. A
 * refusal is not an error: check_compile returns NULL with why, and the server enforces it.
 *
 * Promises: the parser reads any bytes without reading past the end and without unbounded
 * recursion (nesting deeper than CHECK_MAX_DEPTH is refused); evaluation follows SQL's
 * three-valued logic, and a row fails only when the whole expression is FALSE.
 */
#include "check_expr.h"

#include "mem.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK_MAX_DEPTH 48 /* parentheses and NOT nest at most this deep */
#define CHECK_MAX_CASTS 8  /* casts applied to one operand */
#define CHECK_MAX_NODES 4096

/* ---------------------------------------------------------------------------------------------
 * Tokens
 */

enum tok {
    TK_END,
    TK_BAD,
    TK_LP,
    TK_RP,
    TK_COMMA,
    TK_LB,
    TK_RB,
    TK_CAST,
    TK_DOT,
    TK_OP,
    TK_NUM,
    TK_STR,
    TK_WORD,
    TK_QWORD,
};

struct lexer {
    const char *s;
    size_t n;
    size_t pos;    /* where the next token starts */
    enum tok kind; /* the current token */
    size_t start, len;
};

static bool is_word_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_word_char(unsigned char c)
{
    return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_op_char(unsigned char c)
{
    return c != '\0' && strchr("<>=!~+-*/%^&|#@?", c) != NULL;
}

static void lex_next(struct lexer *l)
{
    const char *s = l->s;
    size_t i = l->pos;
    while (i < l->n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    l->start = i;
    if (i >= l->n) {
        l->kind = TK_END;
        l->len = 0;
        l->pos = i;
        return;
    }
    unsigned char c = (unsigned char)s[i];
    size_t j = i + 1;
    switch (c) {
    case '(':
        l->kind = TK_LP;
        break;
    case ')':
        l->kind = TK_RP;
        break;
    case ',':
        l->kind = TK_COMMA;
        break;
    case '[':
        l->kind = TK_LB;
        break;
    case ']':
        l->kind = TK_RB;
        break;
    case '.':
        l->kind = TK_DOT;
        if (j < l->n && is_digit((unsigned char)s[j]))
            goto number;
        break;
    case ':':
        if (j < l->n && s[j] == ':') {
            l->kind = TK_CAST;
            j++;
        } else {
            l->kind = TK_BAD;
        }
        break;
    case '\'':
    case '"':
        /* a quoted literal or identifier; a doubled quote stands for itself */
        l->kind = c == '\'' ? TK_STR : TK_QWORD;
        for (;;) {
            if (j >= l->n) {
                l->kind = TK_BAD;
                break;
            }
            if ((unsigned char)s[j] == c) {
                if (j + 1 < l->n && (unsigned char)s[j + 1] == c) {
                    j += 2;
                    continue;
                }
                j++;
                break;
            }
            j++;
        }
        break;
    default:
        if (is_digit(c)) {
        number:
            l->kind = TK_NUM;
            j = i;
            while (j < l->n && is_digit((unsigned char)s[j]))
                j++;
            if (j < l->n && s[j] == '.') {
                j++;
                while (j < l->n && is_digit((unsigned char)s[j]))
                    j++;
            }
            if (j < l->n && (s[j] == 'e' || s[j] == 'E')) {
                size_t k = j + 1;
                if (k < l->n && (s[k] == '+' || s[k] == '-'))
                    k++;
                if (k < l->n && is_digit((unsigned char)s[k])) {
                    j = k;
                    while (j < l->n && is_digit((unsigned char)s[j]))
                        j++;
                }
            }
        } else if (is_word_start(c)) {
            l->kind = TK_WORD;
            while (j < l->n && is_word_char((unsigned char)s[j]))
                j++;
        } else if (is_op_char(c)) {
            l->kind = TK_OP;
            while (j < l->n && is_op_char((unsigned char)s[j]))
                j++;
        } else {
            l->kind = TK_BAD;
        }
        break;
    }
    l->len = j - i;
    l->pos = j;
}

static bool tok_is(const struct lexer *l, enum tok kind, const char *text)
{
    return l->kind == kind && strlen(text) == l->len && memcmp(l->s + l->start, text, l->len) == 0;
}

static bool tok_word(const struct lexer *l, const char *text)
{
    return tok_is(l, TK_WORD, text);
}

/* ---------------------------------------------------------------------------------------------
 * The parse tree
 */

enum pkind {
    PK_COL,    /* col */
    PK_LIT,    /* lit, text */
    PK_CAST,   /* a: the operand; type */
    PK_LENGTH, /* length(a) or char_length(a) */
    PK_CMP,    /* a op b */
    PK_ANY,    /* a op ANY (b), or ALL when flag */
    PK_ARRAY,  /* ARRAY[a, a->next, ...] */
    PK_AND,    /* a, a->next, ... */
    PK_OR,
    PK_NOT,      /* NOT a */
    PK_NULLTEST, /* a IS NULL, IS NOT NULL when flag */
    PK_BOOLTEST, /* a IS TRUE (op 1), IS FALSE (op 0), IS UNKNOWN (op 2); NOT when flag */
};

enum lit_kind { LIT_INT, LIT_DECIMAL, LIT_STRING, LIT_BOOL, LIT_NULL };

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

/* A type named in a cast: its kind (PGT_SERVER for a name that is not one of the built-in types
 * below, which may be an enum's), whether it carries a modifier or is an array. */
struct cast_type {
    enum pgtype_kind kind;
    bool other;  /* not a built-in name: possibly the enum type of the column */
    bool typmod; /* numeric(10,2), character varying(3), timestamp(0) ... */
    bool array;
    char name[64]; /* for messages */
};

struct pnode {
    enum pkind kind;
    int op;
    bool flag;
    size_t col;
    enum lit_kind lit;
    char *text; /* a literal's decoded characters, NUL-terminated */
    size_t len;
    struct cast_type type;
    struct pnode *a, *b, *next;
};

struct parser {
    struct lexer lex;
    const struct table_column *cols;
    size_t ncols;
    long value_column;
    struct pnode **nodes; /* every node made, for freeing */
    size_t nnodes;
    bool failed;
    char *why;
    size_t why_size;
};

/* The first failure's words, for the parser and the compiler alike; later ones are dropped. */
static void note_failure(bool *failed, char *why, size_t why_size, const char *fmt, va_list ap)
{
    if (*failed)
        return;
    *failed = true;
    vsnprintf(why, why_size, fmt, ap);
}

static void fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note_failure(&p->failed, p->why, p->why_size, fmt, ap);
    va_end(ap);
}

/* The current token for a message: at most 40 bytes of it, quoted by the caller. */
static int tok_width(const struct lexer *l)
{
    return (int)(l->len > 40 ? 40 : l->len);
}

static struct pnode *node_new(struct parser *p, enum pkind kind)
{
    if (p->nnodes >= CHECK_MAX_NODES) {
        fail(p, "is too large (more than %d parts)", CHECK_MAX_NODES);
        return NULL;
    }
    if ((p->nnodes & (p->nnodes - 1)) == 0) /* 0, 1, 2, 4, ...: grow */
        p->nodes = xrealloc(p->nodes, (p->nnodes ? p->nnodes * 2 : 1) * sizeof(*p->nodes));
    struct pnode *n = xcalloc(1, sizeof(*n));
    n->kind = kind;
    p->nodes[p->nnodes++] = n;
    return n;
}

static void parser_release(struct parser *p)
{
    for (size_t i = 0; i < p->nnodes; i++) {
        free(p->nodes[i]->text);
        free(p->nodes[i]);
    }
    free(p->nodes);
}

/* Decode the current quoted token (a doubled quote is one) into a fresh string. */
static char *tok_unquote(const struct lexer *l, size_t *len)
{
    const char *s = l->s + l->start;
    char q = s[0];
    char *out = xmalloc(l->len);
    size_t o = 0;
    for (size_t i = 1; i + 1 < l->len; i++) {
        out[o++] = s[i];
        if (s[i] == q)
            i++; /* the second of a doubled quote */
    }
    out[o] = '\0';
    *len = o;
    return out;
}

static bool expect(struct parser *p, enum tok kind, const char *what)
{
    if (p->lex.kind != kind) {
        fail(p, "is not understood: expected %s at \"%.*s\"", what, tok_width(&p->lex),
             p->lex.s + p->lex.start);
        return false;
    }
    lex_next(&p->lex);
    return true;
}

static const struct {
    const char *name;
    enum pgtype_kind kind;
} builtin_types[] = {
    {"smallint", PGT_INT2},
    {"integer", PGT_INT4},
    {"bigint", PGT_INT8},
    {"numeric", PGT_NUMERIC},
    {"real", PGT_FLOAT4},
    {"double precision", PGT_FLOAT8},
    {"boolean", PGT_BOOL},
    {"uuid", PGT_UUID},
    {"date", PGT_DATE},
    {"time without time zone", PGT_TIME},
    {"timestamp without time zone", PGT_TIMESTAMP},
    {"timestamp with time zone", PGT_TIMESTAMPTZ},
    {"text", PGT_TEXT},
    {"character varying", PGT_VARCHAR},
    {"bpchar", PGT_BPCHAR},
    {"character", PGT_BPCHAR},
    {"json", PGT_JSON},
    {"jsonb", PGT_JSONB},
    /* built-in types sluice does not compare: never an enum */
    {"time with time zone", PGT_SERVER},
    {"interval", PGT_SERVER},
    {"name", PGT_SERVER},
    {"\"char\"", PGT_SERVER},
    {"bytea", PGT_SERVER},
    {"money", PGT_SERVER},
    {"oid", PGT_SERVER},
    {"inet", PGT_SERVER},
    {"cidr", PGT_SERVER},
    {"bit", PGT_SERVER},
    {"bit varying", PGT_SERVER},
    {"xml", PGT_SERVER},
    {"regclass", PGT_SERVER},
    {"unknown", PGT_SERVER},
};

static void type_add_word(struct cast_type *t, const char *w, size_t n)
{
    size_t have = strlen(t->name);
    if (have + n + 2 >= sizeof(t->name))
        return; /* too long a name is no built-in one; the kind lookup will not match */
    if (have)
        t->name[have++] = ' ';
    memcpy(t->name + have, w, n);
    t->name[have + n] = '\0';
}

static bool type_word_is(const struct lexer *l, const char *w)
{
    return tok_word(l, w);
}

/* (n) or (p,s) after a type name. */
static void parse_typmod(struct parser *p, struct cast_type *t)
{
    if (p->lex.kind != TK_LP)
        return;
    lex_next(&p->lex);
    t->typmod = true;
    for (int i = 0; i < 4 && !p->failed; i++) {
        if (!expect(p, TK_NUM, "a type modifier"))
            return;
        if (p->lex.kind != TK_COMMA)
            break;
        lex_next(&p->lex);
    }
    expect(p, TK_RP, "\")\"");
}

/* The type after "::", as format_type() prints it. */
static void parse_type(struct parser *p, struct cast_type *t)
{
    struct lexer *l = &p->lex;
    memset(t, 0, sizeof(*t));
    if (l->kind != TK_WORD && l->kind != TK_QWORD) {
        fail(p, "is not understood: expected a type name at \"%.*s\"", tok_width(l),
             l->s + l->start);
        return;
    }
    bool first_double = tok_word(l, "double"), first_time = tok_word(l, "time"),
         first_timestamp = tok_word(l, "timestamp"),
         first_varying = tok_word(l, "character") || tok_word(l, "bit");
    type_add_word(t, l->s + l->start, l->len);
    lex_next(l);
    if (first_double) {
        if (!type_word_is(l, "precision")) {
            fail(p, "is not understood: \"double\" without \"precision\"");
            return;
        }
        type_add_word(t, "precision", 9);
        lex_next(l);
    } else if (first_varying && type_word_is(l, "varying")) {
        type_add_word(t, "varying", 7);
        lex_next(l);
    } else if (first_time || first_timestamp) {
        parse_typmod(p, t);
        if (type_word_is(l, "with") || type_word_is(l, "without")) {
            type_add_word(t, l->s + l->start, l->len);
            lex_next(l);
            if (!type_word_is(l, "time")) {
                fail(p, "is not understood: a time type without \"time zone\"");
                return;
            }
            lex_next(l);
            if (!type_word_is(l, "zone")) {
                fail(p, "is not understood: a time type without \"time zone\"");
                return;
            }
            lex_next(l);
            type_add_word(t, "time zone", 9);
        }
    } else {
        while (l->kind == TK_DOT && !p->failed) { /* schema-qualified */
            type_add_word(t, ".", 1);
            lex_next(l);
            if (l->kind != TK_WORD && l->kind != TK_QWORD) {
                fail(p, "is not understood: a type name ends with \".\"");
                return;
            }
            type_add_word(t, l->s + l->start, l->len);
            lex_next(l);
        }
    }
    parse_typmod(p, t);
    if (l->kind == TK_LB) {
        lex_next(l);
        if (!expect(p, TK_RB, "\"]\""))
            return;
        t->array = true;
    }
    t->kind = PGT_SERVER;
    t->other = true;
    for (size_t i = 0; i < sizeof(builtin_types) / sizeof(builtin_types[0]); i++)
        if (strcmp(t->name, builtin_types[i].name) == 0) {
            t->kind = builtin_types[i].kind;
            t->other = false;
        }
}

static struct pnode *parse_or(struct parser *p, int depth);

static struct pnode *parse_column(struct parser *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->ncols; i++)
        if (strlen(p->cols[i].name) == len && memcmp(p->cols[i].name, name, len) == 0) {
            struct pnode *n = node_new(p, PK_COL);
            if (n)
                n->col = i;
            return n;
        }
    fail(p, "names \"%.*s\", which is no column of the table", (int)(len > 60 ? 60 : len), name);
    return NULL;
}

static struct pnode *parse_primary(struct parser *p, int depth)
{
    struct lexer *l = &p->lex;
    if (depth > CHECK_MAX_DEPTH) {
        fail(p, "nests deeper than %d levels", CHECK_MAX_DEPTH);
        return NULL;
    }
    struct pnode *n = NULL;
    switch (l->kind) {
    case TK_LP:
        lex_next(l);
        n = parse_or(p, depth + 1);
        if (!p->failed)
            expect(p, TK_RP, "\")\"");
        return n;
    case TK_NUM: {
        n = node_new(p, PK_LIT);
        if (!n)
            return NULL;
        bool decimal = false;
        for (size_t i = 0; i < l->len; i++)
            if (!is_digit((unsigned char)l->s[l->start + i]))
                decimal = true;
        n->lit = decimal ? LIT_DECIMAL : LIT_INT;
        n->text = xmalloc(l->len + 1);
        memcpy(n->text, l->s + l->start, l->len);
        n->text[l->len] = '\0';
        n->len = l->len;
        lex_next(l);
        return n;
    }
    case TK_STR:
        n = node_new(p, PK_LIT);
        if (!n)
            return NULL;
        n->lit = LIT_STRING;
        n->text = tok_unquote(l, &n->len);
        lex_next(l);
        return n;
    case TK_QWORD: {
        size_t len;
        char *name = tok_unquote(l, &len);
        n = parse_column(p, name, len);
        free(name);
        lex_next(l);
        return n;
    }
    case TK_WORD:
        break;
    default:
        fail(p, "is not understood at \"%.*s\"", tok_width(l), l->s + l->start);
        return NULL;
    }

    if (tok_word(l, "true") || tok_word(l, "false")) {
        n = node_new(p, PK_LIT);
        if (!n)
            return NULL;
        n->lit = LIT_BOOL;
        n->text = xstrdup(tok_word(l, "true") ? "true" : "false");
        n->len = strlen(n->text);
        lex_next(l);
        return n;
    }
    if (tok_word(l, "NULL")) {
        n = node_new(p, PK_LIT);
        if (n)
            n->lit = LIT_NULL;
        lex_next(l);
        return n;
    }
    if (tok_word(l, "VALUE")) {
        if (p->value_column < 0 || (size_t)p->value_column >= p->ncols) {
            fail(p, "uses VALUE outside a domain");
            return NULL;
        }
        n = node_new(p, PK_COL);
        if (n)
            n->col = (size_t)p->value_column;
        lex_next(l);
        return n;
    }
    if (tok_word(l, "ARRAY")) {
        lex_next(l);
        if (!expect(p, TK_LB, "\"[\" after ARRAY"))
            return NULL;
        n = node_new(p, PK_ARRAY);
        struct pnode **tail = n ? &n->a : NULL;
        while (n && !p->failed && l->kind != TK_RB) {
            struct pnode *e = parse_or(p, depth + 1);
            if (p->failed)
                return NULL;
            *tail = e;
            tail = &e->next;
            if (l->kind != TK_COMMA)
                break;
            lex_next(l);
        }
        if (!p->failed)
            expect(p, TK_RB, "\"]\"");
        return n;
    }

    const char *word = l->s + l->start;
    size_t wlen = l->len;
    lex_next(l);
    if (l->kind == TK_LP) {
        bool is_length = (wlen == 6 && memcmp(word, "length", 6) == 0) ||
                         (wlen == 11 && memcmp(word, "char_length", 11) == 0);
        if (!is_length) {
            fail(p, "calls %.*s()", (int)(wlen > 60 ? 60 : wlen), word);
            return NULL;
        }
        lex_next(l);
        n = node_new(p, PK_LENGTH);
        if (!n)
            return NULL;
        n->a = parse_or(p, depth + 1);
        if (!p->failed && l->kind == TK_COMMA)
            fail(p, "calls %.*s() with more than one argument", (int)wlen, word);
        if (!p->failed)
            expect(p, TK_RP, "\")\"");
        return n;
    }
    if (l->kind == TK_DOT) {
        fail(p, "names \"%.*s.\", a qualified name", (int)(wlen > 60 ? 60 : wlen), word);
        return NULL;
    }
    /* Keywords are printed in capitals and never name a column unquoted (an unquoted name is
     * lower case), so a capitalised word here is a keyword sluice does not evaluate. */
    if (word[0] >= 'A' && word[0] <= 'Z') {
        fail(p, "uses %.*s", (int)(wlen > 60 ? 60 : wlen), word);
        return NULL;
    }
    return parse_column(p, word, wlen);
}

static struct pnode *parse_operand(struct parser *p, int depth)
{
    struct pnode *n = parse_primary(p, depth);
    for (int casts = 0; !p->failed && p->lex.kind == TK_CAST; casts++) {
        if (casts == CHECK_MAX_CASTS) {
            fail(p, "casts one value more than %d times", CHECK_MAX_CASTS);
            return NULL;
        }
        lex_next(&p->lex);
        struct pnode *c = node_new(p, PK_CAST);
        if (!c)
            return NULL;
        parse_type(p, &c->type);
        c->a = n;
        n = c;
    }
    if (!p->failed && tok_word(&p->lex, "COLLATE"))
        fail(p, "names a collation (COLLATE)");
    return p->failed ? NULL : n;
}

static int cmp_op_of(const struct lexer *l)
{
    static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
    for (int i = 0; i < 6; i++)
        if (tok_is(l, TK_OP, ops[i]))
            return i;
    return -1;
}

static struct pnode *parse_predicate(struct parser *p, int depth)
{
    struct lexer *l = &p->lex;
    struct pnode *left = parse_operand(p, depth);
    if (p->failed)
        return NULL;
    if (l->kind == TK_OP) {
        int op = cmp_op_of(l);
        if (op < 0) {
            fail(p, "uses the operator %.*s", tok_width(l), l->s + l->start);
            return NULL;
        }
        lex_next(l);
        if (tok_word(l, "ANY") || tok_word(l, "ALL")) {
            struct pnode *n = node_new(p, PK_ANY);
            if (!n)
                return NULL;
            n->flag = tok_word(l, "ALL");
            n->op = op;
            n->a = left;
            lex_next(l);
            if (!expect(p, TK_LP, "\"(\" after ANY or ALL"))
                return NULL;
            n->b = parse_or(p, depth + 1);
            if (!p->failed)
                expect(p, TK_RP, "\")\"");
            return n;
        }
        struct pnode *n = node_new(p, PK_CMP);
        if (!n)
            return NULL;
        n->op = op;
        n->a = left;
        n->b = parse_operand(p, depth);
        if (!p->failed && l->kind == TK_OP)
            fail(p, "chains operators (\"%.*s\")", tok_width(l), l->s + l->start);
        return n;
    }
    if (tok_word(l, "IS")) {
        lex_next(l);
        bool negated = false;
        if (tok_word(l, "NOT")) {
            negated = true;
            lex_next(l);
        }
        struct pnode *n;
        if (tok_word(l, "NULL")) {
            n = node_new(p, PK_NULLTEST);
        } else if (tok_word(l, "TRUE") || tok_word(l, "FALSE") || tok_word(l, "UNKNOWN")) {
            n = node_new(p, PK_BOOLTEST);
            if (n)
                n->op = tok_word(l, "TRUE") ? 1 : tok_word(l, "FALSE") ? 0 : 2;
        } else {
            fail(p, "uses IS %.*s", tok_width(l), l->s + l->start);
            return NULL;
        }
        if (!n)
            return NULL;
        n->flag = negated;
        n->a = left;
        lex_next(l);
        return n;
    }
    return left;
}

static struct pnode *parse_not(struct parser *p, int depth)
{
    if (!tok_word(&p->lex, "NOT"))
        return parse_predicate(p, depth);
    if (depth > CHECK_MAX_DEPTH) {
        fail(p, "nests deeper than %d levels", CHECK_MAX_DEPTH);
        return NULL;
    }
    lex_next(&p->lex);
    struct pnode *n = node_new(p, PK_NOT);
    if (n)
        n->a = parse_not(p, depth + 1);
    return p->failed ? NULL : n;
}

/* a AND b AND ... (and for OR): one node with the operands as a list. */
static struct pnode *parse_bool_list(struct parser *p, int depth, bool is_or)
{
    const char *word = is_or ? "OR" : "AND";
    struct pnode *first = is_or ? parse_bool_list(p, depth, false) : parse_not(p, depth);
    if (p->failed || !tok_word(&p->lex, word))
        return first;
    struct pnode *n = node_new(p, is_or ? PK_OR : PK_AND);
    if (!n)
        return NULL;
    n->a = first;
    struct pnode *tail = first;
    while (!p->failed && tok_word(&p->lex, word)) {
        lex_next(&p->lex);
        struct pnode *e = is_or ? parse_bool_list(p, depth, false) : parse_not(p, depth);
        if (p->failed)
            return NULL;
        tail->next = e;
        tail = e;
    }
    return n;
}

static struct pnode *parse_or(struct parser *p, int depth)
{
    return parse_bool_list(p, depth, true);
}

/* ---------------------------------------------------------------------------------------------
 * The compiled form
 */

enum tv { TV_FALSE, TV_TRUE, TV_NULL };

/* Where a comparison happens: every operand is brought to one of these before comparing. */
enum domain {
    DOM_I64,     /* integers, length(), bool, enum (label order), date, time, timestamps */
    DOM_F64,     /* real (widened) and double precision, NaN above everything */
    DOM_NUMERIC, /* numeric through pgtype_compare */
    DOM_UUID,
    DOM_TEXT,   /* bytewise: equality always, order only under the C collation */
    DOM_BPCHAR, /* bytewise without trailing spaces */
};

enum conv {
    CONV_NONE,
    CONV_LENGTH,  /* length(col): i = characters */
    CONV_NUMERIC, /* (intcol)::numeric: the integer's digits */
    CONV_RTRIM,   /* (charcol)::text: trailing spaces dropped */
};

struct operand {
    bool is_const;
    size_t col;
    enum conv conv;
    struct pgtype col_type; /* for length(); labels not kept */
    struct pgvalue value;   /* a constant's */
};

enum cnode_kind {
    CN_AND,
    CN_OR,
    CN_NOT,
    CN_CMP,
    CN_LIST,
    CN_NULLTEST,
    CN_BOOLTEST,
    CN_BOOLCOL,
    CN_CONST,
};

struct cnode {
    enum cnode_kind kind;
    size_t col; /* the first column the node names, blamed when it is false */
    bool has_col;
    struct cnode **kids;
    size_t nkids;
    struct operand l, r;
    enum cmp_op op;
    enum domain dom;
    bool all; /* CN_LIST: <> ALL; else = ANY */
    struct pgvalue *list;
    size_t nlist;
    bool negated;    /* NULLTEST, BOOLTEST */
    int test;        /* BOOLTEST: 1 TRUE, 0 FALSE, 2 UNKNOWN */
    bool on_operand; /* NULLTEST of l, else of kids[0] */
    enum tv constant;
};

struct check_expr {
    struct cnode *root;
    bool *uses;
    size_t ncols;
    char **strings; /* constants' characters, which their pgvalues point into */
    size_t nstrings;
};

struct compiler {
    const struct table_column *cols;
    size_t ncols;
    const struct pgtype_env *env;
    struct check_expr *c;
    bool failed;
    char *why;
    size_t why_size;
};

static void cfail(struct compiler *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cfail(struct compiler *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note_failure(&k->failed, k->why, k->why_size, fmt, ap);
    va_end(ap);
}

static void cnode_free(struct cnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        cnode_free(n->kids[i]);
    free(n->kids);
    free(n->list);
    free(n);
}

/* A scalar before its comparison is known: a column (after casts and length()) or a constant
 * with the type its casts give it. */
struct scalar {
    bool is_const;
    /* column */
    size_t col;
    enum conv conv;
    enum pgtype_kind kind; /* of the column after casts, or of the constant */
    /* constant */
    const char *text;
    size_t len;
    bool null;
    bool untyped;                /* a string or NULL without a cast yet */
    bool other;                  /* cast to a type name that is not built in (an enum's) */
    enum pgtype_kind parse_kind; /* read the text as this (real widened to double stays real) */
    char type_name[64];
};

static bool kind_is_int(enum pgtype_kind k)
{
    return k == PGT_INT2 || k == PGT_INT4 || k == PGT_INT8;
}

static int int_width(enum pgtype_kind k)
{
    return k == PGT_INT2 ? 2 : k == PGT_INT4 ? 4 : 8;
}

static bool kind_is_text(enum pgtype_kind k)
{
    return k == PGT_TEXT || k == PGT_VARCHAR;
}

static void scalar_of_literal(const struct pnode *n, struct scalar *s)
{
    memset(s, 0, sizeof(*s));
    s->is_const = true;
    s->text = n->text;
    s->len = n->len;
    switch (n->lit) {
    case LIT_INT:
        s->kind = PGT_INT4;
        break;
    case LIT_DECIMAL:
        s->kind = PGT_NUMERIC;
        break;
    case LIT_BOOL:
        s->kind = PGT_BOOL;
        break;
    case LIT_STRING:
        s->untyped = true;
        s->kind = PGT_SERVER;
        snprintf(s->type_name, sizeof(s->type_name), "unknown");
        break;
    case LIT_NULL:
        s->untyped = true;
        s->null = true;
        s->kind = PGT_SERVER;
        snprintf(s->type_name, sizeof(s->type_name), "unknown");
        break;
    }
    s->parse_kind = s->kind;
    if (!s->untyped)
        snprintf(s->type_name, sizeof(s->type_name), "%s", pgtype_kind_name(s->kind));
}

/* A constant cast to t, when the cast changes nothing sluice cannot reproduce exactly. */
static void cast_constant(struct compiler *k, struct scalar *s, const struct cast_type *t)
{
    enum pgtype_kind from = s->kind, to = t->kind;
    if (t->typmod) {
        cfail(k, "casts a constant to %s with a type modifier", t->name);
        return;
    }
    if (t->other || to == PGT_SERVER) {
        if (!s->untyped) {
            cfail(k, "casts a constant of type %s to %s", s->type_name, t->name);
            return;
        }
        s->other = t->other;
        s->kind = to;
        s->parse_kind = to;
    } else if (s->untyped || from == to) {
        s->kind = s->parse_kind = to;
    } else if (kind_is_text(from) && kind_is_text(to)) {
        s->kind = s->parse_kind = to;
    } else if ((kind_is_int(from) &&
                (kind_is_int(to) || to == PGT_NUMERIC || to == PGT_FLOAT4 || to == PGT_FLOAT8)) ||
               (from == PGT_NUMERIC && (to == PGT_FLOAT4 || to == PGT_FLOAT8))) {
        /* the digits read as the wider type give the value the cast computes */
        s->kind = s->parse_kind = to;
    } else if (from == PGT_FLOAT4 && to == PGT_FLOAT8) {
        s->kind = to; /* read as real, widened */
    } else {
        cfail(k, "casts a constant of type %s to %s", s->type_name, t->name);
        return;
    }
    s->untyped = false;
    snprintf(s->type_name, sizeof(s->type_name), "%s", t->name);
}

/* A column cast to t, when the cast is exact. */
static void cast_column(struct compiler *k, struct scalar *s, const struct cast_type *t)
{
    const char *name = k->cols[s->col].name;
    enum pgtype_kind from = s->kind, to = t->kind;
    if (t->typmod || t->array || t->other || to == PGT_SERVER) {
        cfail(k, "casts column \"%s\" to %s%s", name, t->name, t->typmod ? " with a modifier" : "");
        return;
    }
    if (from == to && s->conv != CONV_LENGTH)
        return;
    if (s->conv == CONV_NONE || (s->conv == CONV_RTRIM && kind_is_text(to))) {
        if (kind_is_text(from) && kind_is_text(to)) {
            s->kind = to;
            return;
        }
        if (from == PGT_BPCHAR && kind_is_text(to)) {
            s->kind = to;
            s->conv = CONV_RTRIM;
            return;
        }
        if (kind_is_int(from) && kind_is_int(to) && int_width(to) >= int_width(from)) {
            s->kind = to;
            return;
        }
        if (kind_is_int(from) && to == PGT_NUMERIC) {
            s->kind = to;
            s->conv = CONV_NUMERIC;
            return;
        }
        if (from == PGT_FLOAT4 && to == PGT_FLOAT8) {
            s->kind = to;
            return;
        }
    }
    if (s->conv == CONV_LENGTH && kind_is_int(to) && int_width(to) >= 4)
        return;
    cfail(k, "casts column \"%s\" (%s) to %s", name,
          k->cols[s->col].type_name ? k->cols[s->col].type_name : pgtype_kind_name(from), t->name);
}

static void compile_scalar(struct compiler *k, const struct pnode *n, struct scalar *s)
{
    memset(s, 0, sizeof(*s));
    if (k->failed)
        return;
    switch (n->kind) {
    case PK_COL: {
        memset(s, 0, sizeof(*s));
        s->col = n->col;
        s->kind = k->cols[n->col].type.kind; /* json and server types: only IS NULL */
        k->c->uses[n->col] = true;
        return;
    }
    case PK_LIT:
        scalar_of_literal(n, s);
        return;
    case PK_CAST:
        if (n->type.array) {
            cfail(k, "casts to the array type %s outside ANY or ALL", n->type.name);
            return;
        }
        compile_scalar(k, n->a, s);
        if (k->failed)
            return;
        if (s->is_const)
            cast_constant(k, s, &n->type);
        else
            cast_column(k, s, &n->type);
        return;
    case PK_LENGTH:
        compile_scalar(k, n->a, s);
        if (k->failed)
            return;
        if (s->is_const) {
            cfail(k, "takes the length of a constant");
        } else if (!(kind_is_text(s->kind) || s->kind == PGT_BPCHAR) ||
                   (s->conv != CONV_NONE && s->conv != CONV_RTRIM)) {
            cfail(k, "takes length() of column \"%s\", which is not text", k->cols[s->col].name);
        } else {
            s->conv = CONV_LENGTH;
            s->kind = PGT_INT4;
        }
        return;
    default:
        cfail(k, "compares a condition or an array as a value");
        return;
    }
}

/* The domain in which a column-side scalar compares with a constant or another column. */
static bool pick_domain(struct compiler *k, const struct scalar *col, const struct scalar *other,
                        enum domain *dom)
{
    enum pgtype_kind a = col->kind, b = other->kind;
    if (kind_is_int(a) && kind_is_int(b))
        *dom = DOM_I64;
    else if (a == PGT_NUMERIC && (b == PGT_NUMERIC || (other->is_const && kind_is_int(b))))
        *dom = DOM_NUMERIC;
    else if ((a == PGT_FLOAT4 || a == PGT_FLOAT8) && (b == PGT_FLOAT4 || b == PGT_FLOAT8))
        *dom = DOM_F64;
    else if (a == b && (a == PGT_BOOL || a == PGT_DATE || a == PGT_TIME || a == PGT_TIMESTAMP ||
                        a == PGT_TIMESTAMPTZ))
        *dom = DOM_I64;
    else if (a == PGT_UUID && b == PGT_UUID)
        *dom = DOM_UUID;
    else if (a == PGT_ENUM && other->is_const && other->other)
        *dom = DOM_I64;
    else if (kind_is_text(a) && kind_is_text(b))
        *dom = DOM_TEXT;
    else if (a == PGT_BPCHAR && b == PGT_BPCHAR)
        *dom = DOM_BPCHAR;
    else {
        if (other->is_const)
            cfail(k, "compares column \"%s\" (%s) with a constant of type %s",
                  k->cols[col->col].name, pgtype_kind_name(a), other->type_name);
        else
            cfail(k, "compares column \"%s\" (%s) with column \"%s\" (%s)", k->cols[col->col].name,
                  pgtype_kind_name(a), k->cols[other->col].name, pgtype_kind_name(b));
        return false;
    }
    return true;
}

/* Text is ordered here only as the C collation orders it (bytes), and compared only under a
 * deterministic collation (where equal means byte-equal). */
static bool order_allowed(struct compiler *k, enum cmp_op op, enum domain dom,
                          const struct scalar *s)
{
    if ((dom != DOM_TEXT && dom != DOM_BPCHAR) || s->conv == CONV_LENGTH)
        return true;
    if (!k->cols[s->col].text_exact) { /* e.g. case-insensitive: equal is not byte-equal */
        cfail(k, "compares text column \"%s\" under a nondeterministic collation",
              k->cols[s->col].name);
        return false;
    }
    if (op == OP_EQ || op == OP_NE || k->cols[s->col].c_collation)
        return true;
    cfail(k, "orders text column \"%s\" under collation other than \"C\"", k->cols[s->col].name);
    return false;
}

/* Read a constant as the type of the domain it is compared in; its characters are kept. */
static void constant_value(struct compiler *k, const struct scalar *col, const struct scalar *s,
                           struct pgvalue *v)
{
    memset(v, 0, sizeof(*v));
    if (s->null) {
        v->null = true;
        return;
    }
    struct pgtype t = {.kind = s->parse_kind, .precision = -1, .length = -1};
    if (col->kind == PGT_ENUM)
        t = k->cols[col->col].type; /* its labels */
    char *copy = xmalloc(s->len + 1);
    memcpy(copy, s->text, s->len);
    copy[s->len] = '\0';
    struct check_expr *c = k->c;
    if ((c->nstrings & (c->nstrings - 1)) == 0)
        c->strings = xrealloc(c->strings, (c->nstrings ? c->nstrings * 2 : 1) * sizeof(char *));
    c->strings[c->nstrings++] = copy;
    struct buf scratch;
    buf_init(&scratch);
    char err[160];
    const char *bad = pgtype_parse(&t, k->env, copy, s->len, &scratch, v, err, sizeof(err));
    buf_release(&scratch);
    if (bad)
        cfail(k, "compares with the constant '%.*s', not read as %s (%s)",
              (int)(s->len > 40 ? 40 : s->len), copy, s->type_name, bad);
}

static void operand_of(const struct compiler *k, const struct scalar *s, struct operand *o)
{
    memset(o, 0, sizeof(*o));
    o->col = s->col;
    o->conv = s->conv;
    o->col_type = k->cols[s->col].type;
    o->col_type.labels = NULL;
    o->col_type.nlabels = 0;
}

static enum cmp_op op_flip(enum cmp_op op)
{
    switch (op) {
    case OP_LT:
        return OP_GT;
    case OP_LE:
        return OP_GE;
    case OP_GT:
        return OP_LT;
    case OP_GE:
        return OP_LE;
    default:
        return op;
    }
}

static struct cnode *cnode_new(enum cnode_kind kind)
{
    struct cnode *n = xcalloc(1, sizeof(*n));
    n->kind = kind;
    return n;
}

static struct cnode *compile_bool(struct compiler *k, const struct pnode *n);

static struct cnode *compile_cmp(struct compiler *k, const struct pnode *n)
{
    struct scalar a, b;
    compile_scalar(k, n->a, &a);
    compile_scalar(k, n->b, &b);
    if (k->failed)
        return NULL;
    enum cmp_op op = (enum cmp_op)n->op;
    if (a.is_const && b.is_const) {
        cfail(k, "compares two constants");
        return NULL;
    }
    if (a.is_const) { /* the column on the left */
        struct scalar t = a;
        a = b;
        b = t;
        op = op_flip(op);
    }
    enum domain dom;
    if (!pick_domain(k, &a, &b, &dom) || !order_allowed(k, op, dom, &a) ||
        (!b.is_const && !order_allowed(k, op, dom, &b)))
        return NULL;
    if (!b.is_const && a.kind == PGT_ENUM) {
        cfail(k, "compares two enum columns");
        return NULL;
    }
    struct cnode *c = cnode_new(CN_CMP);
    c->op = op;
    c->dom = dom;
    operand_of(k, &a, &c->l);
    c->col = a.col;
    c->has_col = true;
    if (b.is_const) {
        c->r.is_const = true;
        constant_value(k, &a, &b, &c->r.value);
    } else {
        operand_of(k, &b, &c->r);
    }
    if (k->failed) {
        cnode_free(c);
        return NULL;
    }
    return c;
}

/* The elements of an array constant '{a,"b c",NULL}' as untyped literals in p's nodes. */
static size_t split_array_literal(struct compiler *k, const struct pnode *lit, struct pnode *out,
                                  size_t max)
{
    const char *s = lit->text;
    size_t n = lit->len, i = 0, count = 0;
    while (i < n && s[i] == ' ')
        i++;
    if (i >= n || s[i] != '{') {
        cfail(k, "compares with the array '%.*s', not understood", (int)(n > 40 ? 40 : n), s);
        return 0;
    }
    i++;
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && s[i] == '}')
        return 0;
    for (;;) {
        if (count == max) {
            cfail(k, "compares with an array of more than %zu elements", max);
            return 0;
        }
        struct pnode *e = &out[count];
        memset(e, 0, sizeof(*e));
        e->kind = PK_LIT;
        e->lit = LIT_STRING;
        e->text = xmalloc(n + 1);
        while (i < n && s[i] == ' ')
            i++;
        size_t o = 0;
        bool quoted = i < n && s[i] == '"';
        if (quoted) {
            for (i++; i < n && s[i] != '"'; i++) {
                if (s[i] == '\\' && i + 1 < n)
                    i++;
                e->text[o++] = s[i];
            }
            if (i >= n) {
                count++;
                cfail(k, "compares with an array constant that is not closed");
                return count;
            }
            i++;
            while (i < n && s[i] == ' ')
                i++;
        } else {
            size_t last = 0;
            for (; i < n && s[i] != ',' && s[i] != '}'; i++) {
                if (s[i] == '{' || s[i] == '"' || s[i] == '\\') {
                    count++;
                    cfail(k, "compares with a nested or escaped array constant");
                    return count;
                }
                e->text[o++] = s[i];
                if (s[i] != ' ')
                    last = o;
            }
            o = last;
            if (o == 4 && strncasecmp(e->text, "NULL", 4) == 0)
                e->lit = LIT_NULL;
        }
        e->text[o] = '\0';
        e->len = o;
        count++;
        if (i < n && s[i] == ',') {
            i++;
            continue;
        }
        if (i < n && s[i] == '}') {
            i++;
            while (i < n && s[i] == ' ')
                i++;
            if (i == n)
                return count;
        }
        cfail(k, "compares with an array constant that is not understood");
        return count;
    }
}

#define CHECK_MAX_LIST 1024

static struct cnode *compile_list(struct compiler *k, const struct pnode *n)
{
    struct scalar left;
    compile_scalar(k, n->a, &left);
    if (k->failed)
        return NULL;
    if (left.is_const) {
        cfail(k, "compares a constant with ANY or ALL");
        return NULL;
    }
    /* The array: ARRAY[...] or '{...}', either perhaps cast to an array type. */
    const struct pnode *arr = n->b;
    const struct cast_type *elem_cast = NULL;
    if (arr->kind == PK_CAST && arr->type.array) {
        elem_cast = &arr->type;
        arr = arr->a;
    }
    struct pnode *literal_elems = NULL;
    size_t nelems = 0;
    const struct pnode *first = NULL;
    if (arr->kind == PK_ARRAY) {
        first = arr->a;
        for (const struct pnode *e = first; e; e = e->next)
            nelems++;
    } else if (arr->kind == PK_LIT && arr->lit == LIT_STRING && elem_cast) {
        literal_elems = xcalloc(CHECK_MAX_LIST, sizeof(*literal_elems));
        nelems = split_array_literal(k, arr, literal_elems, CHECK_MAX_LIST);
    } else {
        cfail(k, "compares with ANY or ALL over something other than an array constant");
        return NULL;
    }
    if (nelems > CHECK_MAX_LIST && !k->failed)
        cfail(k, "compares with an array of more than %d elements", CHECK_MAX_LIST);

    struct cnode *c = cnode_new(CN_LIST);
    c->op = (enum cmp_op)n->op;
    c->all = n->flag;
    operand_of(k, &left, &c->l);
    c->col = left.col;
    c->has_col = true;
    c->list = xcalloc(nelems ? nelems : 1, sizeof(*c->list));
    const struct pnode *e = first;
    bool have_dom = false;
    for (size_t i = 0; i < nelems && !k->failed; i++) {
        const struct pnode *elem = literal_elems ? &literal_elems[i] : e;
        struct scalar s;
        compile_scalar(k, elem, &s);
        if (!k->failed && !s.is_const)
            cfail(k, "compares with an array that holds a column");
        if (!k->failed && elem_cast) {
            struct cast_type t = *elem_cast;
            t.array = false;
            size_t nl = strlen(t.name);
            if (nl >= 2 && strcmp(t.name + nl - 2, "[]") == 0)
                t.name[nl - 2] = '\0';
            cast_constant(k, &s, &t);
        }
        enum domain dom;
        if (!k->failed && pick_domain(k, &left, &s, &dom)) {
            if (have_dom && dom != c->dom)
                cfail(k, "compares with an array of mixed types");
            c->dom = dom;
            have_dom = true;
            if (!k->failed)
                constant_value(k, &left, &s, &c->list[i]);
        }
        if (e)
            e = e->next;
        c->nlist++;
    }
    if (literal_elems) {
        for (size_t i = 0; i < CHECK_MAX_LIST; i++)
            free(literal_elems[i].text);
        free(literal_elems);
    }
    if (!k->failed && have_dom)
        order_allowed(k, c->op, c->dom, &left);
    if (!k->failed && !have_dom) /* an empty array: the domain does not matter */
        c->dom = DOM_I64;
    if (k->failed) {
        cnode_free(c);
        return NULL;
    }
    return c;
}

static bool pnode_is_scalar(const struct pnode *n)
{
    return n->kind == PK_COL || n->kind == PK_LIT || n->kind == PK_CAST || n->kind == PK_LENGTH;
}

/* The first column a compiled node names, for blame. */
static void cnode_take_col(struct cnode *n, const struct cnode *kid)
{
    if (!n->has_col && kid && kid->has_col) {
        n->col = kid->col;
        n->has_col = true;
    }
}

static struct cnode *compile_bool(struct compiler *k, const struct pnode *n)
{
    if (k->failed)
        return NULL;
    struct cnode *c = NULL;
    switch (n->kind) {
    case PK_AND:
    case PK_OR: {
        size_t count = 0;
        for (const struct pnode *e = n->a; e; e = e->next)
            count++;
        c = cnode_new(n->kind == PK_AND ? CN_AND : CN_OR);
        c->kids = xcalloc(count, sizeof(*c->kids));
        for (const struct pnode *e = n->a; e && !k->failed; e = e->next) {
            struct cnode *kid = compile_bool(k, e);
            if (!kid)
                break;
            c->kids[c->nkids++] = kid;
            cnode_take_col(c, kid);
        }
        break;
    }
    case PK_NOT:
    case PK_BOOLTEST:
        c = cnode_new(n->kind == PK_NOT ? CN_NOT : CN_BOOLTEST);
        c->negated = n->flag;
        c->test = n->op;
        c->kids = xcalloc(1, sizeof(*c->kids));
        c->kids[0] = compile_bool(k, n->a);
        if (c->kids[0])
            c->nkids = 1;
        cnode_take_col(c, c->kids[0]);
        break;
    case PK_NULLTEST:
        c = cnode_new(CN_NULLTEST);
        c->negated = n->flag;
        if (pnode_is_scalar(n->a) &&
            !(n->a->kind == PK_COL && k->cols[n->a->col].type.kind == PGT_BOOL)) {
            struct scalar s;
            compile_scalar(k, n->a, &s);
            if (k->failed)
                break;
            c->on_operand = true;
            if (s.is_const) {
                c->l.is_const = true;
                c->l.value.null = s.null;
            } else {
                operand_of(k, &s, &c->l);
                c->col = s.col;
                c->has_col = true;
            }
        } else {
            c->kids = xcalloc(1, sizeof(*c->kids));
            c->kids[0] = compile_bool(k, n->a);
            if (c->kids[0])
                c->nkids = 1;
            cnode_take_col(c, c->kids[0]);
        }
        break;
    case PK_CMP:
        return compile_cmp(k, n);
    case PK_ANY:
        return compile_list(k, n);
    case PK_COL:
        if (k->cols[n->col].type.kind != PGT_BOOL) {
            cfail(k, "uses column \"%s\" as a condition", k->cols[n->col].name);
            return NULL;
        }
        c = cnode_new(CN_BOOLCOL);
        c->col = n->col;
        c->has_col = true;
        k->c->uses[n->col] = true;
        break;
    case PK_LIT:
        if (n->lit != LIT_BOOL && n->lit != LIT_NULL) {
            cfail(k, "uses a constant as a condition");
            return NULL;
        }
        c = cnode_new(CN_CONST);
        c->constant = n->lit == LIT_NULL             ? TV_NULL
                      : strcmp(n->text, "true") == 0 ? TV_TRUE
                                                     : TV_FALSE;
        break;
    default:
        cfail(k, "uses a value as a condition");
        return NULL;
    }
    if (k->failed) {
        cnode_free(c);
        return NULL;
    }
    return c;
}

/* ---------------------------------------------------------------------------------------------
 * Public: compile
 */

struct check_expr *check_compile(const char *def, const struct table_column *cols, size_t ncols,
                                 long value_column, const struct pgtype_env *env, char *why,
                                 size_t why_size)
{
    static const struct pgtype_env utc;
    struct parser p = {
        .lex = {.s = def, .n = strlen(def)},
        .cols = cols,
        .ncols = ncols,
        .value_column = value_column,
        .why = why,
        .why_size = why_size,
    };
    if (why_size)
        why[0] = '\0';
    struct check_expr *c = NULL;
    struct lexer *l = &p.lex;
    lex_next(l);
    if (!tok_word(l, "CHECK")) {
        fail(&p, "is not a CHECK constraint");
        goto out;
    }
    lex_next(l);
    if (!expect(&p, TK_LP, "\"(\" after CHECK"))
        goto out;
    struct pnode *root = parse_or(&p, 1);
    if (p.failed || !expect(&p, TK_RP, "\")\""))
        goto out;
    /* What follows the expression changes nothing for a row being inserted. */
    if (tok_word(l, "NO")) {
        lex_next(l);
        if (!tok_word(l, "INHERIT")) {
            fail(&p, "is not understood after its expression");
            goto out;
        }
        lex_next(l);
    }
    if (tok_word(l, "NOT")) {
        lex_next(l);
        if (!tok_word(l, "VALID")) {
            fail(&p, "is not understood after its expression");
            goto out;
        }
        lex_next(l);
    }
    if (l->kind != TK_END) {
        fail(&p, "is not understood after its expression: \"%.*s\"", tok_width(l), l->s + l->start);
        goto out;
    }

    c = xcalloc(1, sizeof(*c));
    c->ncols = ncols;
    c->uses = xcalloc(ncols ? ncols : 1, sizeof(*c->uses));
    struct compiler k = {
        .cols = cols,
        .ncols = ncols,
        .env = env ? env : &utc,
        .c = c,
        .why = why,
        .why_size = why_size,
    };
    c->root = compile_bool(&k, root);
    if (c->root && !c->root->has_col)
        cfail(&k, "names no column"); /* nothing to blame; the server judges it alone */
    if (!c->root || k.failed) {
        if (!k.failed)
            cfail(&k, "is not understood");
        check_free(c);
        c = NULL;
    }
out:
    parser_release(&p);
    return c;
}

/* ---------------------------------------------------------------------------------------------
 * Evaluation
 */

/* The operand's value in its domain; false when it is NULL. */
static bool operand_value(const struct operand *o, const struct pgvalue *vals, struct pgvalue *tmp,
                          char *digits, size_t digits_size)
{
    if (o->is_const) {
        *tmp = o->value;
        return !tmp->null;
    }
    const struct pgvalue *v = &vals[o->col];
    if (v->null)
        return false;
    *tmp = *v;
    switch (o->conv) {
    case CONV_NONE:
        break;
    case CONV_LENGTH:
        tmp->i = (int64_t)pgtype_char_length(&o->col_type, v);
        break;
    case CONV_NUMERIC: {
        int w = snprintf(digits, digits_size, "%" PRId64, v->i);
        tmp->text = digits;
        tmp->len = w > 0 ? (size_t)w : 0;
        break;
    }
    case CONV_RTRIM:
        while (tmp->len && tmp->text[tmp->len - 1] == ' ')
            tmp->len--;
        break;
    }
    return true;
}

static int bytes_compare(const char *a, size_t an, const char *b, size_t bn)
{
    size_t common = an < bn ? an : bn;
    int r = common ? memcmp(a, b, common) : 0;
    if (r)
        return r < 0 ? -1 : 1;
    return (an > bn) - (an < bn);
}

static int domain_compare(enum domain dom, const struct pgvalue *a, const struct pgvalue *b)
{
    static const struct pgtype numeric = {.kind = PGT_NUMERIC, .precision = -1, .length = -1};
    switch (dom) {
    case DOM_I64:
        return (a->i > b->i) - (a->i < b->i);
    case DOM_F64:
        /* PostgreSQL's float order: NaN equals NaN and sorts above every number */
        if (isnan(a->f))
            return isnan(b->f) ? 0 : 1;
        if (isnan(b->f))
            return -1;
        return (a->f > b->f) - (a->f < b->f);
    case DOM_NUMERIC:
        return pgtype_compare(&numeric, a, b);
    case DOM_UUID:
        return memcmp(a->uuid, b->uuid, sizeof(a->uuid));
    case DOM_TEXT:
        return bytes_compare(a->text, a->len, b->text, b->len);
    case DOM_BPCHAR: {
        size_t an = a->len, bn = b->len;
        while (an && a->text[an - 1] == ' ')
            an--;
        while (bn && b->text[bn - 1] == ' ')
            bn--;
        return bytes_compare(a->text, an, b->text, bn);
    }
    }
    return 0;
}

static bool op_holds(enum cmp_op op, int r)
{
    switch (op) {
    case OP_EQ:
        return r == 0;
    case OP_NE:
        return r != 0;
    case OP_LT:
        return r < 0;
    case OP_LE:
        return r <= 0;
    case OP_GT:
        return r > 0;
    case OP_GE:
        return r >= 0;
    }
    return false;
}

/* The value of n on the row. When it is false, *blame is the column to name: the first one the
 * false part names (an AND blames its first false operand, anything else its first column). */
static enum tv eval(const struct cnode *n, const struct pgvalue *vals, size_t *blame)
{
    struct pgvalue a, b;
    char da[24], db[24];
    size_t kid_blame;
    *blame = n->col;
    switch (n->kind) {
    case CN_AND: {
        enum tv r = TV_TRUE;
        for (size_t i = 0; i < n->nkids; i++) {
            enum tv t = eval(n->kids[i], vals, &kid_blame);
            if (t == TV_FALSE) {
                *blame = n->kids[i]->has_col ? kid_blame : n->col;
                return TV_FALSE;
            }
            if (t == TV_NULL)
                r = TV_NULL;
        }
        return r;
    }
    case CN_OR: {
        enum tv r = TV_FALSE;
        for (size_t i = 0; i < n->nkids; i++) {
            enum tv t = eval(n->kids[i], vals, &kid_blame);
            if (t == TV_TRUE)
                return TV_TRUE;
            if (t == TV_NULL)
                r = TV_NULL;
        }
        return r;
    }
    case CN_NOT: {
        enum tv t = eval(n->kids[0], vals, &kid_blame);
        return t == TV_NULL ? TV_NULL : t == TV_TRUE ? TV_FALSE : TV_TRUE;
    }
    case CN_CMP:
        if (!operand_value(&n->l, vals, &a, da, sizeof(da)) ||
            !operand_value(&n->r, vals, &b, db, sizeof(db)))
            return TV_NULL;
        return op_holds(n->op, domain_compare(n->dom, &a, &b)) ? TV_TRUE : TV_FALSE;
    case CN_LIST: {
        if (!operand_value(&n->l, vals, &a, da, sizeof(da)))
            return n->nlist ? TV_NULL : n->all ? TV_TRUE : TV_FALSE;
        /* ANY: true when one holds; ALL: false when one fails; NULL elements make it unknown */
        enum tv r = n->all ? TV_TRUE : TV_FALSE;
        for (size_t i = 0; i < n->nlist; i++) {
            if (n->list[i].null) {
                r = TV_NULL;
                continue;
            }
            bool holds = op_holds(n->op, domain_compare(n->dom, &a, &n->list[i]));
            if (holds && !n->all)
                return TV_TRUE;
            if (!holds && n->all)
                return TV_FALSE;
        }
        return r;
    }
    case CN_NULLTEST: {
        bool is_null;
        if (n->on_operand)
            is_null = !operand_value(&n->l, vals, &a, da, sizeof(da));
        else
            is_null = eval(n->kids[0], vals, &kid_blame) == TV_NULL;
        return is_null != n->negated ? TV_TRUE : TV_FALSE;
    }
    case CN_BOOLTEST: {
        enum tv t = eval(n->kids[0], vals, &kid_blame);
        bool is = n->test == 2 ? t == TV_NULL : n->test == 1 ? t == TV_TRUE : t == TV_FALSE;
        return is != n->negated ? TV_TRUE : TV_FALSE;
    }
    case CN_BOOLCOL:
        if (vals[n->col].null)
            return TV_NULL;
        return vals[n->col].i ? TV_TRUE : TV_FALSE;
    case CN_CONST:
        return n->constant;
    }
    return TV_NULL;
}

bool check_eval(const struct check_expr *c, const struct pgvalue *vals, size_t *column)
{
    size_t blame = c->root->col;
    enum tv t = eval(c->root, vals, &blame);
    *column = blame;
    return t != TV_FALSE;
}

bool check_uses(const struct check_expr *c, size_t column)
{
    return column < c->ncols && c->uses[column];
}

void check_free(struct check_expr *c)
{
    if (!c)
        return;
    cnode_free(c->root);
    for (size_t i = 0; i < c->nstrings; i++)
        free(c->strings[i]);
    free(c->strings);
    free(c->uses);
    free(c);
}
