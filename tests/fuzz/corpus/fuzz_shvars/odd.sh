ROM=$(ls *.rom) X=`id` Y=${A:-b} Z="$D/x" W='open
if [[ $VM_NAME = $TARGET_VM ]] ; then a | b > c \
