/* banned.h - functions libdebkeep never uses; include last (after git's banned.h) */
#ifndef DEBKEEP_BANNED_H
#define DEBKEEP_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_debkeep

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#endif
