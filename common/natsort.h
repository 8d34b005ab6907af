/*
 * natsort.h - natural order of names, as people number things: world2
 * before world10.
 */
#ifndef DBOPS_NATSORT_H
#define DBOPS_NATSORT_H

/*
 * Compare A and B as strcmp() does, except that runs of digits compare as
 * numbers (leading zeros aside: world02 equals world2).
 */
int dbops_natural_cmp(const char *a, const char *b);

#endif
