/*
 * libclusterctx.so: runs a program that is not .NET in the context of a pod, preloaded with LD_PRELOAD.
 *
 * It interposes libc by symbol and asks the session host (over the Unix socket CLUSTERCONTEXT_SHIM_SOCKET names) only
 * what it must: a path under one of the pod's paths the host named becomes the path of the host's local copy of it
 * (so read, mmap, fstat, readdir and close need no hooks); a name becomes the addresses the pod's resolver gives; a
 * TCP connection to a pod-side address goes to a loopback port the host joined to a connection the agent opened in
 * the pod. Children keep it (execve and posix_spawn put it back in an environment that dropped it).
 *
 * Safe in every process it enters: errno kept, re-entrancy guarded per thread, a control connection per thread and
 * per process (a forked child makes its own), nothing on stdout, and with no host reachable the program runs as
 * without it after one line on stderr. A .NET process is left to the managed startup hook.
 *
 * The protocol (see ShimService.cs): after the hello, one text line per request and per reply, fields split by tabs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* Linked against the oldest versions of these, so the library loads on glibc 2.17 and later as well as where it is built. */
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dladdr,dladdr@GLIBC_2.2.5");
__asm__(".symver pthread_once,pthread_once@GLIBC_2.2.5");

#define SHIM_EXPORT __attribute__((visibility("default")))
#define MAX_ROOTS 64
#define REPLY_MAX 4096

extern char **environ;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t s_roots_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_active;                /* configured, not a .NET process, host reachable so far */
static int s_roots_known;
static char s_socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char s_self[1024];           /* this library's path, put back into children's LD_PRELOAD */
static char s_root_text[REPLY_MAX]; /* no malloc here: a hook may run inside the program's allocator's start */
static char *s_roots[MAX_ROOTS];
static size_t s_root_lengths[MAX_ROOTS];
static int s_root_count;
static int s_warned;

static __thread int t_busy;
static __thread int t_fd = -1;
static __thread pid_t t_pid;
static __thread dev_t t_dev;
static __thread ino_t t_ino;

#define REAL(name) real_##name
#define DECLARE_REAL(ret, name, ...)                                               \
    static ret (*real_##name)(__VA_ARGS__);                                        \
    static ret (*resolve_##name(void))(__VA_ARGS__)                                \
    {                                                                              \
        if (!real_##name)                                                          \
            real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name);            \
        return real_##name;                                                        \
    }
#define CALL_REAL(name) (resolve_##name())

DECLARE_REAL(int, connect, int, const struct sockaddr *, socklen_t)
DECLARE_REAL(ssize_t, readlink, const char *, char *, size_t)
DECLARE_REAL(int, access, const char *, int)

/* ---------------------------------------------------------------------------------------------- the host connection */

static void warn_once(const char *message)
{
    if (__atomic_exchange_n(&s_warned, 1, __ATOMIC_RELAXED))
        return;
    char line[512];
    int n = snprintf(line, sizeof line, "clustercontext: %s; this program runs without the pod's context.\n", message);
    if (n > 0)
    {
        ssize_t ignored = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)ignored;
    }
}

static int is_dotnet_process(void)
{
    char exe[1024];
    ssize_t n = CALL_REAL(readlink)("/proc/self/exe", exe, sizeof exe - 32);
    if (n <= 0)
        return 0;
    exe[n] = 0;
    const char *name = strrchr(exe, '/');
    name = name ? name + 1 : exe;
    if (strcmp(name, "dotnet") == 0)
        return 1;
    /* An app's own launcher (apphost): its runtime configuration lies beside it. */
    strcat(exe, ".runtimeconfig.json");
    return CALL_REAL(access)(exe, F_OK) == 0;
}

static void init(void)
{
    int saved = errno;
    const char *socket_path = getenv("CLUSTERCONTEXT_SHIM_SOCKET");
    Dl_info info;
    if (dladdr((void *)&init, &info) && info.dli_fname && strlen(info.dli_fname) < sizeof s_self)
        strcpy(s_self, info.dli_fname);
    if (socket_path && *socket_path && strlen(socket_path) < sizeof s_socket && !is_dotnet_process())
    {
        strcpy(s_socket, socket_path);
        s_active = 1;
    }
    errno = saved;
}

static int write_all(int fd, const char *data, size_t length)
{
    while (length > 0)
    {
        ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

/*
 * Reads one reply line (without its newline) into reply. The host sends nothing but one line per request, so what
 * arrives up to a newline is that reply, whole: read in as few calls as it came in.
 */
static int read_line(int fd, char *reply, size_t capacity)
{
    size_t used = 0;
    for (;;)
    {
        ssize_t n = recv(fd, reply + used, capacity - 1 - used, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        used += (size_t)n;
        if (reply[used - 1] == '\n')
        {
            reply[used - 1] = 0;
            return 0;
        }
        if (used == capacity - 1)
            return -1;
    }
}

static void learn_roots(char *hello)
{
    pthread_mutex_lock(&s_roots_lock);
    if (!s_roots_known)
    {
        size_t text_length = strlen(hello);
        if (text_length >= sizeof s_root_text)
            text_length = sizeof s_root_text - 1;
        memcpy(s_root_text, hello, text_length);
        s_root_text[text_length] = 0;
        char *field = strchr(s_root_text, '\t');
        while (field && s_root_count < MAX_ROOTS)
        {
            *field++ = 0;
            char *next = strchr(field, '\t');
            if (next)
                *next = 0;
            size_t length = strlen(field);
            while (field[0] != '~' && length > 1 && field[length - 1] == '/')
                field[--length] = 0;
            s_roots[s_root_count] = field;
            s_root_lengths[s_root_count++] = length;
            field = next ? next : NULL;
        }
        __atomic_store_n(&s_roots_known, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&s_roots_lock);
}

/* fstat without glibc's wrapper (exported only from 2.33 on). */
static int own_fstat(int fd, struct stat *st) { return (int)syscall(SYS_fstat, fd, st); }

/* This thread's connection to the host (made again in a forked child, or when the program closed or reused its fd). */
static int host_connection(void)
{
    pid_t pid = getpid();
    if (t_fd >= 0)
    {
        struct stat st;
        if (t_pid == pid && own_fstat(t_fd, &st) == 0 && st.st_dev == t_dev && st.st_ino == t_ino)
            return t_fd;
        if (t_pid == pid)
            t_fd = -1; /* closed (or reused) by the program: not ours to close */
        else
        {
            close(t_fd); /* the parent's, inherited: this process makes its own */
            t_fd = -1;
        }
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strcpy(address.sun_path, s_socket);
    char hello[REPLY_MAX];
    int n = snprintf(hello, sizeof hello, "{\"kind\":\"shim\",\"pid\":%d}\n", (int)pid);
    if (CALL_REAL(connect)(fd, (struct sockaddr *)&address, sizeof address) != 0 || write_all(fd, hello, (size_t)n) != 0
        || read_line(fd, hello, sizeof hello) != 0 || strncmp(hello, "OK", 2) != 0)
    {
        close(fd);
        char message[REPLY_MAX];
        if (strncmp(hello, "E\t", 2) == 0)
            snprintf(message, sizeof message, "%.3000s", hello + 2); /* the host's reason (this program's settings, say) */
        else
            snprintf(message, sizeof message, "the session host at %s is not reachable", s_socket);
        warn_once(message);
        s_active = 0;
        return -1;
    }

    learn_roots(hello);
    struct stat st;
    own_fstat(fd, &st);
    t_fd = fd;
    t_pid = pid;
    t_dev = st.st_dev;
    t_ino = st.st_ino;
    return fd;
}

/* Sends one request line and reads its reply; -1 when the host cannot be asked (the caller then stays local). */
static int ask(const char *request, char *reply, size_t capacity)
{
    int fd = host_connection();
    if (fd < 0)
        return -1;
    size_t length = strlen(request);
    char line[REPLY_MAX + 8];
    if (length + 2 > sizeof line)
        return -1;
    memcpy(line, request, length);
    line[length++] = '\n';
    if (write_all(fd, line, length) != 0 || read_line(fd, reply, capacity) != 0)
    {
        close(fd);
        t_fd = -1;
        return -1;
    }
    return 0;
}

static int enter(void)
{
    pthread_once(&s_once, init);
    if (!s_active || t_busy)
        return 0;
    t_busy = 1;
    return 1;
}

static void leave(void) { t_busy = 0; }

/* ------------------------------------------------------------------------------------------------------------ paths */

/* Under one of the pod's roots (a directory: /etc/orders covers /etc/orders/x, not /etc/ordersx), or starting with
   one of the prefixes the host marks ~ (the literal start of a configured pattern). */
static int under_a_root(const char *path)
{
    for (int i = 0; i < s_root_count; i++)
    {
        const char *root = s_roots[i];
        size_t length = s_root_lengths[i];
        if (root[0] == '~')
        {
            if (strncmp(path, root + 1, length - 1) == 0)
                return 1;
        }
        else if (strncmp(path, root, length) == 0 && (path[length] == '/' || path[length] == 0 || length == 1))
            return 1;
    }
    return 0;
}

enum { PATH_LOCAL, PATH_COPY, PATH_MISSING };

/*
 * Where a program's path really is: PATH_COPY with the host's copy in buffer, PATH_MISSING (the pod has no such file),
 * or PATH_LOCAL. Only absolute paths under the pod's paths are asked about.
 */
static int where(const char *path, int writing, char *buffer, size_t capacity)
{
    if (!path || path[0] != '/')
        return PATH_LOCAL;
    pthread_once(&s_once, init);
    /* The common case first, and cheaply: once the roots are known, a path under none of them is local. */
    if (!s_active || (__atomic_load_n(&s_roots_known, __ATOMIC_ACQUIRE) && !under_a_root(path)))
        return PATH_LOCAL;
    if (strchr(path, '\t') || strchr(path, '\n') || !enter())
        return PATH_LOCAL;
    int saved = errno;
    int result = PATH_LOCAL;
    /* The roots come with the first connection's hello. */
    if (!__atomic_load_n(&s_roots_known, __ATOMIC_ACQUIRE))
        host_connection();
    if (s_active && under_a_root(path))
    {
        char request[REPLY_MAX];
        char reply[REPLY_MAX];
        if ((size_t)snprintf(request, sizeof request, "%c\t%s", writing ? 'W' : 'P', path) < sizeof request
            && ask(request, reply, sizeof reply) == 0)
        {
            if (reply[0] == 'F' && reply[1] == '\t' && strlen(reply + 2) < capacity)
            {
                strcpy(buffer, reply + 2);
                result = PATH_COPY;
            }
            else if (reply[0] == 'N')
                result = PATH_MISSING;
        }
    }
    leave();
    errno = saved;
    return result;
}

/* Declares the local name p for path: the copy's path, or path itself; a path the pod lacks fails with ENOENT. */
#define REWRITE(path, writing, failure)                                            \
    char shim_buffer_[REPLY_MAX];                                                  \
    const char *p = path;                                                          \
    switch (where(path, writing, shim_buffer_, sizeof shim_buffer_))               \
    {                                                                              \
    case PATH_COPY:                                                                \
        p = shim_buffer_;                                                          \
        break;                                                                     \
    case PATH_MISSING:                                                             \
        errno = ENOENT;                                                            \
        return failure;                                                            \
    }

static int opens_for_writing(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)); }

static int mode_writes(const char *mode) { return mode && (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+')); }

static mode_t mode_argument(int flags, va_list arguments)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(arguments, int) : 0;
}

#define OPEN_LIKE(name)                                                            \
    DECLARE_REAL(int, name, const char *, int, ...)                                \
    SHIM_EXPORT int name(const char *path, int flags, ...)                         \
    {                                                                              \
        va_list arguments;                                                         \
        va_start(arguments, flags);                                                \
        mode_t mode = mode_argument(flags, arguments);                             \
        va_end(arguments);                                                         \
        REWRITE(path, opens_for_writing(flags), -1);                               \
        return CALL_REAL(name)(p, flags, mode);                                    \
    }
OPEN_LIKE(open)
OPEN_LIKE(open64)

#define OPENAT_LIKE(name)                                                          \
    DECLARE_REAL(int, name, int, const char *, int, ...)                           \
    SHIM_EXPORT int name(int directory, const char *path, int flags, ...)          \
    {                                                                              \
        va_list arguments;                                                         \
        va_start(arguments, flags);                                                \
        mode_t mode = mode_argument(flags, arguments);                             \
        va_end(arguments);                                                         \
        REWRITE(path, opens_for_writing(flags), -1);                               \
        return CALL_REAL(name)(directory, p, flags, mode);                         \
    }
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)

/* _FORTIFY_SOURCE's checked opens (no mode: they are never given O_CREAT). */
#define OPEN_2_LIKE(name)                                                          \
    DECLARE_REAL(int, name, const char *, int)                                     \
    SHIM_EXPORT int name(const char *path, int flags)                              \
    {                                                                              \
        REWRITE(path, opens_for_writing(flags), -1);                               \
        return CALL_REAL(name)(p, flags);                                          \
    }
OPEN_2_LIKE(__open_2)
OPEN_2_LIKE(__open64_2)

#define OPENAT_2_LIKE(name)                                                        \
    DECLARE_REAL(int, name, int, const char *, int)                                \
    SHIM_EXPORT int name(int directory, const char *path, int flags)               \
    {                                                                              \
        REWRITE(path, opens_for_writing(flags), -1);                               \
        return CALL_REAL(name)(directory, p, flags);                               \
    }
OPENAT_2_LIKE(__openat_2)
OPENAT_2_LIKE(__openat64_2)

DECLARE_REAL(int, creat, const char *, mode_t)
SHIM_EXPORT int creat(const char *path, mode_t mode)
{
    REWRITE(path, 1, -1);
    return CALL_REAL(creat)(p, mode);
}

#define FOPEN_LIKE(name)                                                           \
    DECLARE_REAL(FILE *, name, const char *, const char *)                         \
    SHIM_EXPORT FILE *name(const char *path, const char *mode)                     \
    {                                                                              \
        REWRITE(path, mode_writes(mode), NULL);                                    \
        return CALL_REAL(name)(p, mode);                                           \
    }
FOPEN_LIKE(fopen)
FOPEN_LIKE(fopen64)

#define FREOPEN_LIKE(name)                                                         \
    DECLARE_REAL(FILE *, name, const char *, const char *, FILE *)                 \
    SHIM_EXPORT FILE *name(const char *path, const char *mode, FILE *stream)       \
    {                                                                              \
        REWRITE(path, mode_writes(mode), NULL);                                    \
        return CALL_REAL(name)(p, mode, stream);                                   \
    }
FREOPEN_LIKE(freopen)
FREOPEN_LIKE(freopen64)

#define STAT_LIKE(name, type)                                                      \
    DECLARE_REAL(int, name, const char *, type *)                                  \
    SHIM_EXPORT int name(const char *path, type *buffer)                           \
    {                                                                              \
        REWRITE(path, 0, -1);                                                      \
        return CALL_REAL(name)(p, buffer);                                         \
    }
STAT_LIKE(stat, struct stat)
STAT_LIKE(stat64, struct stat64)
STAT_LIKE(lstat, struct stat)
STAT_LIKE(lstat64, struct stat64)

#define FSTATAT_LIKE(name, type)                                                   \
    DECLARE_REAL(int, name, int, const char *, type *, int)                        \
    SHIM_EXPORT int name(int directory, const char *path, type *buffer, int flags) \
    {                                                                              \
        REWRITE(path, 0, -1);                                                      \
        return CALL_REAL(name)(directory, p, buffer, flags);                       \
    }
FSTATAT_LIKE(fstatat, struct stat)
FSTATAT_LIKE(fstatat64, struct stat64)

DECLARE_REAL(int, statx, int, const char *, int, unsigned int, struct statx *)
SHIM_EXPORT int statx(int directory, const char *path, int flags, unsigned int mask, struct statx *buffer)
{
    REWRITE(path, 0, -1);
    return CALL_REAL(statx)(directory, p, flags, mask, buffer);
}

/* The stat family of binaries built against glibc before 2.33. */
#define XSTAT_LIKE(name, type)                                                     \
    DECLARE_REAL(int, name, int, const char *, type *)                             \
    SHIM_EXPORT int name(int version, const char *path, type *buffer)              \
    {                                                                              \
        REWRITE(path, 0, -1);                                                      \
        return CALL_REAL(name)(version, p, buffer);                                \
    }
XSTAT_LIKE(__xstat, struct stat)
XSTAT_LIKE(__xstat64, struct stat64)
XSTAT_LIKE(__lxstat, struct stat)
XSTAT_LIKE(__lxstat64, struct stat64)

#define FXSTATAT_LIKE(name, type)                                                  \
    DECLARE_REAL(int, name, int, int, const char *, type *, int)                   \
    SHIM_EXPORT int name(int version, int directory, const char *path, type *buffer, int flags) \
    {                                                                              \
        REWRITE(path, 0, -1);                                                      \
        return CALL_REAL(name)(version, directory, p, buffer, flags);              \
    }
FXSTATAT_LIKE(__fxstatat, struct stat)
FXSTATAT_LIKE(__fxstatat64, struct stat64)

SHIM_EXPORT int access(const char *path, int mode)
{
    REWRITE(path, 0, -1);
    return CALL_REAL(access)(p, mode);
}

DECLARE_REAL(int, faccessat, int, const char *, int, int)
SHIM_EXPORT int faccessat(int directory, const char *path, int mode, int flags)
{
    REWRITE(path, 0, -1);
    return CALL_REAL(faccessat)(directory, p, mode, flags);
}

SHIM_EXPORT ssize_t readlink(const char *path, char *buffer, size_t size)
{
    REWRITE(path, 0, -1);
    return CALL_REAL(readlink)(p, buffer, size);
}

DECLARE_REAL(ssize_t, readlinkat, int, const char *, char *, size_t)
SHIM_EXPORT ssize_t readlinkat(int directory, const char *path, char *buffer, size_t size)
{
    REWRITE(path, 0, -1);
    return CALL_REAL(readlinkat)(directory, p, buffer, size);
}

/* Extended attributes (ls -l asks for the SELinux label and ACLs of each entry). */
#define GETXATTR_LIKE(name)                                                        \
    DECLARE_REAL(ssize_t, name, const char *, const char *, void *, size_t)        \
    SHIM_EXPORT ssize_t name(const char *path, const char *attribute, void *value, size_t size) \
    {                                                                              \
        REWRITE(path, 0, -1);                                                      \
        return CALL_REAL(name)(p, attribute, value, size);                         \
    }
GETXATTR_LIKE(getxattr)
GETXATTR_LIKE(lgetxattr)

#define LISTXATTR_LIKE(name)                                                       \
    DECLARE_REAL(ssize_t, name, const char *, char *, size_t)                      \
    SHIM_EXPORT ssize_t name(const char *path, char *list, size_t size)            \
    {                                                                              \
        REWRITE(path, 0, -1);                                                      \
        return CALL_REAL(name)(p, list, size);                                     \
    }
LISTXATTR_LIKE(listxattr)
LISTXATTR_LIKE(llistxattr)

DECLARE_REAL(DIR *, opendir, const char *)
SHIM_EXPORT DIR *opendir(const char *path)
{
    REWRITE(path, 0, NULL);
    return CALL_REAL(opendir)(p);
}

/* -------------------------------------------------------------------------------------------------------------- DNS */

/* The pod's addresses for name, as text in reply ("A\taddr\taddr..."); 0 when the name resolves locally. */
static int pod_addresses(const char *name, char *reply, size_t capacity)
{
    if (!name || !*name || strchr(name, '\t') || strchr(name, '\n'))
        return 0;
    struct in6_addr numeric;
    if (inet_pton(AF_INET, name, &numeric) == 1 || inet_pton(AF_INET6, name, &numeric) == 1)
        return 0;
    if (!enter())
        return 0;
    int saved = errno;
    char request[1100];
    int found = (size_t)snprintf(request, sizeof request, "R\t%s", name) < sizeof request && ask(request, reply, capacity) == 0
        && reply[0] == 'A' && reply[1] == '\t';
    leave();
    errno = saved;
    return found;
}

DECLARE_REAL(int, getaddrinfo, const char *, const char *, const struct addrinfo *, struct addrinfo **)
SHIM_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **result)
{
    char reply[REPLY_MAX];
    if (!pod_addresses(node, reply, sizeof reply))
        return CALL_REAL(getaddrinfo)(node, service, hints, result);

    /* Each of the pod's addresses through the real getaddrinfo, numerically: the result is glibc's own, so
       freeaddrinfo and every field (service, socket types, sorting flags) stay as the program expects. */
    struct addrinfo numeric = {0};
    if (hints)
        numeric = *hints;
    numeric.ai_flags = (numeric.ai_flags | AI_NUMERICHOST) & ~(AI_CANONNAME | AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL);
    struct addrinfo *head = NULL, **tail = &head;
    int last = EAI_NONAME;
    char *cursor = NULL;
    for (char *address = strtok_r(reply + 2, "\t", &cursor); address; address = strtok_r(NULL, "\t", &cursor))
    {
        struct addrinfo *part = NULL;
        int status = CALL_REAL(getaddrinfo)(address, service, &numeric, &part);
        if (status != 0)
        {
            last = status == EAI_ADDRFAMILY || status == EAI_FAMILY ? EAI_NONAME : status;
            continue;
        }
        *tail = part;
        while (*tail)
            tail = &(*tail)->ai_next;
    }
    if (!head)
        return last;
    if (hints && (hints->ai_flags & AI_CANONNAME))
    {
        char *name = strdup(node);
        if (name)
        {
            free(head->ai_canonname);
            head->ai_canonname = name;
        }
    }
    *result = head;
    return 0;
}

/* Fills a hostent of family with the pod's addresses in reply, laid out in buffer; ERANGE when it does not fit. */
static int fill_hostent(const char *name, int family, char *reply, struct hostent *entry, char *buffer, size_t length, int *error)
{
    size_t size = family == AF_INET6 ? 16 : 4;
    char *addresses[64];
    unsigned char raw[64][16];
    int count = 0;
    char *cursor = NULL;
    for (char *text = strtok_r(reply + 2, "\t", &cursor); text && count < 64; text = strtok_r(NULL, "\t", &cursor))
        if (inet_pton(family, text, raw[count]) == 1)
            count++;
    if (count == 0)
    {
        *error = HOST_NOT_FOUND;
        return ENOENT;
    }

    size_t name_length = strlen(name) + 1;
    size_t pointers = sizeof(char *) * (size_t)(count + 1 + 1);
    size_t needed = pointers + (size_t)count * size + name_length + sizeof(char *);
    if (needed > length)
    {
        *error = NETDB_INTERNAL;
        return ERANGE;
    }

    char **list = (char **)(void *)buffer;
    char *data = buffer + pointers;
    for (int i = 0; i < count; i++)
    {
        memcpy(data + (size_t)i * size, raw[i], size);
        addresses[i] = data + (size_t)i * size;
        list[i] = addresses[i];
    }
    list[count] = NULL;
    char *name_copy = data + (size_t)count * size;
    memcpy(name_copy, name, name_length);
    list[count + 1] = NULL; /* the (empty) alias list */
    entry->h_name = name_copy;
    entry->h_aliases = &list[count + 1];
    entry->h_addrtype = family;
    entry->h_length = (int)size;
    entry->h_addr_list = list;
    *error = 0;
    return 0;
}

DECLARE_REAL(int, gethostbyname2_r, const char *, int, struct hostent *, char *, size_t, struct hostent **, int *)
SHIM_EXPORT int gethostbyname2_r(const char *name, int family, struct hostent *entry, char *buffer, size_t length, struct hostent **result, int *error)
{
    char reply[REPLY_MAX];
    if ((family != AF_INET && family != AF_INET6) || !pod_addresses(name, reply, sizeof reply))
        return CALL_REAL(gethostbyname2_r)(name, family, entry, buffer, length, result, error);
    int status = fill_hostent(name, family, reply, entry, buffer, length, error);
    *result = status == 0 ? entry : NULL;
    return status == ENOENT ? 0 : status;
}

DECLARE_REAL(int, gethostbyname_r, const char *, struct hostent *, char *, size_t, struct hostent **, int *)
SHIM_EXPORT int gethostbyname_r(const char *name, struct hostent *entry, char *buffer, size_t length, struct hostent **result, int *error)
{
    char reply[REPLY_MAX];
    if (!pod_addresses(name, reply, sizeof reply))
        return CALL_REAL(gethostbyname_r)(name, entry, buffer, length, result, error);
    int status = fill_hostent(name, AF_INET, reply, entry, buffer, length, error);
    *result = status == 0 ? entry : NULL;
    return status == ENOENT ? 0 : status;
}

static struct hostent s_entry;
static char s_entry_buffer[2048];

DECLARE_REAL(struct hostent *, gethostbyname2, const char *, int)
SHIM_EXPORT struct hostent *gethostbyname2(const char *name, int family)
{
    char reply[REPLY_MAX];
    if ((family != AF_INET && family != AF_INET6) || !pod_addresses(name, reply, sizeof reply))
        return CALL_REAL(gethostbyname2)(name, family);
    int error = 0;
    if (fill_hostent(name, family, reply, &s_entry, s_entry_buffer, sizeof s_entry_buffer, &error) != 0)
    {
        h_errno = error;
        return NULL;
    }
    return &s_entry;
}

DECLARE_REAL(struct hostent *, gethostbyname, const char *)
SHIM_EXPORT struct hostent *gethostbyname(const char *name)
{
    char reply[REPLY_MAX];
    if (!pod_addresses(name, reply, sizeof reply))
        return CALL_REAL(gethostbyname)(name);
    int error = 0;
    if (fill_hostent(name, AF_INET, reply, &s_entry, s_entry_buffer, sizeof s_entry_buffer, &error) != 0)
    {
        h_errno = error;
        return NULL;
    }
    return &s_entry;
}

/* -------------------------------------------------------------------------------------------------------------- TCP */

static int is_loopback(const struct sockaddr *address)
{
    if (address->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)address)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *v6 = &((const struct sockaddr_in6 *)(const void *)address)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(v6) || (IN6_IS_ADDR_V4MAPPED(v6) && v6->s6_addr[12] == 127);
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *address, socklen_t length)
{
    if (!address || (address->sa_family != AF_INET && address->sa_family != AF_INET6)
        || length < (address->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) || is_loopback(address))
        return CALL_REAL(connect)(fd, address, length);
    int type = 0;
    socklen_t type_length = sizeof type;
    int saved = errno;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 || type != SOCK_STREAM || !enter())
    {
        errno = saved;
        return CALL_REAL(connect)(fd, address, length);
    }

    char text[INET6_ADDRSTRLEN];
    int port;
    if (address->sa_family == AF_INET)
    {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)address;
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
    }
    else
    {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)address;
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
    }

    char request[128];
    char reply[256];
    snprintf(request, sizeof request, "C\t%s\t%d", text, port);
    int asked = ask(request, reply, sizeof reply) == 0;
    leave();
    errno = saved;
    if (asked && reply[0] == 'E' && reply[1] == '\t')
    {
        errno = atoi(reply + 2);
        return -1;
    }
    if (!asked || reply[0] != 'T' || reply[1] != '\t')
        return CALL_REAL(connect)(fd, address, length);

    /* The host joined a loopback port to the connection the agent opened in the pod. */
    int local_port = atoi(reply + 2);
    if (address->sa_family == AF_INET)
    {
        struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((uint16_t)local_port)};
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return CALL_REAL(connect)(fd, (struct sockaddr *)&local, sizeof local);
    }
    struct sockaddr_in6 local = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)local_port)};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &local.sin6_addr);
    return CALL_REAL(connect)(fd, (struct sockaddr *)&local, sizeof local);
}

/* --------------------------------------------------------------------------------------------------------- incoming */

/* A TCP socket that now listens: the host subscribes its pod port (with incoming traffic on) for this process. */
DECLARE_REAL(int, listen, int, int)
SHIM_EXPORT int listen(int fd, int backlog)
{
    int result = CALL_REAL(listen)(fd, backlog);
    if (result != 0)
        return result;
    int saved = errno;
    struct sockaddr_storage bound;
    socklen_t length = sizeof bound;
    int type = 0;
    socklen_t type_length = sizeof type;
    if (getsockname(fd, (struct sockaddr *)&bound, &length) != 0 || (bound.ss_family != AF_INET && bound.ss_family != AF_INET6)
        || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 || type != SOCK_STREAM || !enter())
    {
        errno = saved;
        return result;
    }

    char text[INET6_ADDRSTRLEN];
    int port;
    int dual = 0;
    if (bound.ss_family == AF_INET)
    {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)&bound;
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
    }
    else
    {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)&bound;
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
        int only = 0;
        socklen_t only_length = sizeof only;
        dual = getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, &only_length) == 0 && !only;
    }

    char request[128];
    char reply[REPLY_MAX];
    snprintf(request, sizeof request, "S\t%s\t%d\t%d", text, port, dual);
    if (ask(request, reply, sizeof reply) == 0 && strncmp(reply, "OK\t", 3) == 0)
    {
        char line[REPLY_MAX + 32];
        int n = snprintf(line, sizeof line, "clustercontext: %s\n", reply + 3);
        if (n > 0)
        {
            ssize_t ignored = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
            (void)ignored;
        }
    }
    leave();
    errno = saved;
    return result;
}

/* --------------------------------------------------------------------------------------------------------- children */

/*
 * The environment a child gets: envp with LD_PRELOAD naming this library and the host's socket, when it dropped them.
 * Stack only (a vfork child shares its parent's memory): built in the caller's buffers.
 */
static char *const *child_environment(char *const *envp, char **out, size_t capacity, char *preload, size_t preload_capacity, char *socket_variable, size_t socket_capacity)
{
    pthread_once(&s_once, init);
    if (!s_socket[0] || !s_self[0] || !envp)
        return envp;
    const char *existing_preload = NULL;
    int has_socket = 0;
    size_t count = 0;
    for (; envp[count]; count++)
    {
        if (strncmp(envp[count], "LD_PRELOAD=", 11) == 0)
            existing_preload = envp[count] + 11;
        else if (strncmp(envp[count], "CLUSTERCONTEXT_SHIM_SOCKET=", 27) == 0)
            has_socket = 1;
    }
    int has_preload = existing_preload && strstr(existing_preload, s_self);
    if ((has_preload && has_socket) || count + 3 > capacity)
        return envp;

    size_t used = 0;
    for (size_t i = 0; i < count; i++)
        if (strncmp(envp[i], "LD_PRELOAD=", 11) != 0)
            out[used++] = envp[i];
    if (existing_preload && has_preload)
        out[used++] = (char *)existing_preload - 11;
    else if (snprintf(preload, preload_capacity, "LD_PRELOAD=%s%s%s", s_self, existing_preload && *existing_preload ? ":" : "",
                 existing_preload ? existing_preload : "") < (int)preload_capacity)
        out[used++] = preload;
    if (!has_socket && snprintf(socket_variable, socket_capacity, "CLUSTERCONTEXT_SHIM_SOCKET=%s", s_socket) < (int)socket_capacity)
        out[used++] = socket_variable;
    out[used] = NULL;
    return out;
}

#define CHILD_ENVIRONMENT(envp, name)                                                                                \
    char *name##_list[1024];                                                                                       \
    char name##_preload[2048];                                                                                     \
    char name##_socket[160];                                                                                       \
    char *const *name = child_environment(envp, name##_list, 1024, name##_preload, sizeof name##_preload, name##_socket, sizeof name##_socket)

DECLARE_REAL(int, execve, const char *, char *const[], char *const[])
SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    CHILD_ENVIRONMENT(envp, environment);
    return CALL_REAL(execve)(path, argv, environment);
}

DECLARE_REAL(int, execvpe, const char *, char *const[], char *const[])
SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    CHILD_ENVIRONMENT(envp, environment);
    return CALL_REAL(execvpe)(file, argv, environment);
}

DECLARE_REAL(int, posix_spawn, pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[], char *const[])
SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attributes, char *const argv[], char *const envp[])
{
    CHILD_ENVIRONMENT(envp, environment);
    return CALL_REAL(posix_spawn)(pid, path, actions, attributes, argv, environment);
}

DECLARE_REAL(int, posix_spawnp, pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[], char *const[])
SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attributes, char *const argv[], char *const envp[])
{
    CHILD_ENVIRONMENT(envp, environment);
    return CALL_REAL(posix_spawnp)(pid, file, actions, attributes, argv, environment);
}
